"""C1, C3 "when the loss is large" — the same pairs from a normal and a saturated start.

The start is a condition: ``output_scale=1`` (Glorot) or ``10``, where the output
layer's initial weights are scaled by 10, so sigmoid and softmax outputs start
pinned near 0 or 1 and many are confidently wrong; each under Adam and plain SGD. With MSE
the gradient carries a sigmoid'(z) or p(1-p) factor that is nearly zero there; with
cross-entropy it is p - y. Does MSE stall where cross-entropy recovers?

Each condition runs on every Keras backend (``backend`` is an axis; JAX and PyTorch
train in processes of their own): TensorFlow computes a cross-entropy on a sigmoid or
softmax output from the logits it caches, JAX and PyTorch from probabilities clipped at
1e-7, whose gradient vanishes on a saturated wrong output as MSE's does. So the claim
can hold on one backend and not on another.

    recipes run saturated [--seeds N] [--epochs N] [--out DIR]
"""

from recipes import OPTIMIZER_CONDITIONS, Experiment

EXPERIMENT = Experiment(
    name="saturated",
    datasets=("breast_cancer", "digits"),
    recipes=("binary_sigmoid_bce", "binary_sigmoid_mse",
             "multiclass_softmax_cce", "multiclass_softmax_mse"),
    conditions=OPTIMIZER_CONDITIONS,
    output_scale=[1.0, 10.0],
    backend=["tensorflow", "jax", "torch"],
    claim="C1/C3: from a saturated start, MSE's gradient vanishes on confidently wrong "
          "outputs while cross-entropy's stays p - y.",
)
