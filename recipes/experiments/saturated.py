"""C1, C3 "when the loss is large" — the same pairs from a normal and a saturated start.

The start is a condition: ``output_scale=1`` (Glorot) or ``30``, where the output
layer's initial weights are scaled by 30, so sigmoid and softmax outputs start
pinned near 0 or 1 and many are confidently wrong; each under Adam and plain SGD.
(At 10 the probabilities rarely reach JAX's clipping at 1e-7: on digits under SGD
0.01, 3 seeds, the softmax and logits forms both reached 91.9% on JAX; at 30, 80.8%
vs 92.9%.) With MSE the gradient carries a sigmoid'(z) or p(1-p) factor that is nearly zero there; with
cross-entropy it is p - y. Does MSE stall where cross-entropy recovers?

Each condition runs on TensorFlow, JAX and PyTorch (``backend`` is an axis; JAX and
PyTorch train in processes of their own, each with its own stacked trainer): TensorFlow
computes a cross-entropy on a sigmoid or softmax output from the logits it caches, JAX
and PyTorch from probabilities clipped at 1e-7, whose gradient vanishes on a saturated
wrong output as MSE's does. The logits forms (``from_logits=True``, claim C9) keep the
gradient on every backend, so C9 shows where the probability form loses it.

    recipes run saturated [--seeds N] [--epochs N] [--backend NAME ...] [--out DIR]
"""

from recipes import OPTIMIZER_CONDITIONS, Experiment

EXPERIMENT = Experiment(
    name="saturated",
    datasets=("breast_cancer", "digits"),
    recipes=("binary_sigmoid_bce", "binary_logits_bce", "binary_sigmoid_mse",
             "multiclass_softmax_cce", "multiclass_logits_cce", "multiclass_softmax_mse"),
    conditions=OPTIMIZER_CONDITIONS,
    output_scale=[1.0, 30.0],
    backend=["tensorflow", "jax", "torch"],
    claim="C1/C3: from a saturated start, MSE's gradient vanishes on confidently wrong "
          "outputs while cross-entropy's stays p - y. C9: the logits form keeps that "
          "gradient on every backend.",
)
