"""The stacked trainer on the PyTorch backend: many runs as slices of batched tensors,
trained by PyTorch's eager ops and autograd.

``iter_fit_stacked(setups, split)`` has the contract of
``recipes.training.stacked.iter_fit_stacked`` (one scored ``Trace`` per setup, in order,
each yielded as soon as its chunk and every earlier setup's are done) and needs
``KERAS_BACKEND=torch``. It lays the work out as the TensorFlow trainer does and
reproduces plain ``model.fit`` on PyTorch run for run:

* **Chunks, initial weights, batch order**: the TensorFlow trainer's (``stacked._group``,
  ``stacked._stack_inputs``): setups sharing hidden widths, head, loss, encoding,
  optimizer class and hyperparameters, batch size, epochs and split sizes share a chunk;
  every member starts from ``models.initial_weights`` for its seed and sees its rows in
  ``trace.batch_order``'s order for its seed, cut into batches of ``batch_size`` with a
  short last batch, as ``fit_keras`` feeds ``model.fit``. ``stacked.NotStackable``
  configurations are refused up front as there.
* **Forward pass**: weights with a leading member axis ``K`` (kernels ``(K, in, out)``),
  layers as batched matmuls (``torch.bmm``), ReLU between them, and the head's Keras
  activation (``keras.activations.get``) on the head's pre-activations.
* **Loss**: the recipe's Keras loss with reduction "none" (``stacked._loss_none``),
  called on the activation's output, so it takes the path it takes in ``model.fit`` on
  PyTorch: cross-entropies on a probability output clip it at Keras' epsilon (PyTorch
  has no logits to recover, unlike TensorFlow; this is what makes claim C9 visible
  here). Each member's batch loss is the mean over its batch (``sum_over_batch_size``);
  the objective is their SUM (members share no parameters, so each gets its own
  gradient, by ``torch.autograd.grad``).
* **Optimizer**: Keras' PyTorch Adam and SGD (``keras/src/backend/torch/optimizers``)
  written out elementwise with a per-member learning rate, in the same operations and
  order: Adam ``m = m * b1 + g * (1 - b1)``, ``v = v * b2 + g * g * (1 - b2)``,
  ``w -= m * alpha / (sqrt(v) + eps)`` with ``alpha = lr * sqrt(1 - b2^t) / (1 - b1^t)``;
  SGD with momentum ``buf = buf * mu - lr * g`` then ``w += buf`` (Nesterov: ``w -= lr *
  g; w += mu * buf``).
* **Per epoch**: the outputs on train and val (inference), the train loss as Keras logs
  it (the batch-size-weighted mean of the batch losses), the val loss (the loss on the
  val outputs) and the global norm of the head's gradient on the full training split.
* **Divergence, failures, seconds, memory**: as in ``recipes.training.stacked`` (shared
  ``member_trace``, ``run_chunks`` and its failure guard): a member with a non-finite
  epoch train loss or outputs is ``"diverged"`` with its history up to that epoch; an
  exception in a chunk makes its runs ``"failed"``.

Nothing is compiled: an eager step costs a few dozen PyTorch calls whatever ``K`` is,
so a group is one chunk as large as the memory cap allows (``MAX_MEMBERS``). Measured on
digits (2 cores, 20 epochs, SGD): one chunk of 40 runs trains in 3.0 s, the same runs as
two chunks of 20 on two threads in 3.4 s, so groups are never cut to feed threads; but
two groups' chunks train side by side (``WORKERS`` threads: 3.35-3.45 s for two groups
of 20 runs, 4.05 s one after the other), as one thread's Python work overlaps the
other's kernels.
"""

from __future__ import annotations

import time

import numpy as np

from . import stacked
from .trace import per_setup

__all__ = ["MAX_MEMBERS", "WORKERS", "fit_stacked", "iter_fit_stacked", "iter_stacked",
           "train_stacked"]

# Chunks trained at the same time (threads), and the largest chunk.
WORKERS = 2
MAX_MEMBERS = 64


# --- one chunk's arithmetic --------------------------------------------------------------

class _Chunk:
    """The forward pass, loss and optimizer step of one configuration, on tensors with a
    leading member axis."""

    def __init__(self, config, recipe):
        import keras

        self.config = config
        self.loss_fn = stacked._loss_none(recipe)
        self.head_act = keras.activations.get(config.activation)

    def forward(self, ws, x):
        """Pre-activations of the head, (K, n, units); ``x`` is (K, n, d) or shared (n, d)."""
        import torch

        h = x
        n_layers = len(ws) // 2
        for i in range(n_layers):
            kernel, bias = ws[2 * i], ws[2 * i + 1]
            if h.dim() == 2:
                h = torch.einsum("nd,kdh->knh", h, kernel)
            else:   # (W^T h^T)^T: MKL's batched matmul is ~5x faster with the rows last
                h = torch.bmm(kernel.transpose(1, 2), h.transpose(1, 2)).transpose(1, 2)
            h = h + bias[:, None, :]
            if i < n_layers - 1:
                h = torch.relu(h)
        return h

    def outputs(self, z):
        """The head's activation on pre-activations (K, n, units)."""
        K, n, u = z.shape
        return self.head_act(z.reshape(K * n, u)).reshape(K, n, u)

    def member_means(self, y, out):
        """Each member's loss, (K,): the per-sample losses averaged over its rows."""
        K, n = out.shape[:2]
        y = y.reshape((K * n,) + tuple(y.shape[2:]))
        return self.loss_fn(y, out.reshape((K * n,) + tuple(out.shape[2:]))).reshape(K, n).mean(1)

    def update(self, ws, grads, slots, step, lr):
        """One optimizer step for every member, in place: Keras' PyTorch arithmetic."""
        import torch

        kind, hyper = self.config.optimizer, self.config.hyper
        if kind == "adam":
            beta_1, beta_2, eps = hyper
            t = torch.tensor(float(step + 1))
            b1p = torch.pow(torch.tensor(beta_1, dtype=torch.float32), t)
            b2p = torch.pow(torch.tensor(beta_2, dtype=torch.float32), t)
            alpha = lr * torch.sqrt(1 - b2p) / (1 - b1p)           # (K,)
            for w, g, m, v in zip(ws, grads, *slots):
                m.mul_(beta_1).add_(g, alpha=1 - beta_1)
                v.mul_(beta_2).add_(g * g, alpha=1 - beta_2)
                w.sub_(m * _expand(alpha, m) / (torch.sqrt(v) + eps))
            return
        momentum, nesterov = hyper
        for j, (w, g) in enumerate(zip(ws, grads)):
            glr = g * _expand(lr, g)
            if momentum == 0:
                w.sub_(glr)
                continue
            buf = slots[0][j]
            buf.mul_(momentum).sub_(glr)
            if nesterov:
                w.sub_(glr).add_(buf, alpha=momentum)
            else:
                w.add_(buf)

    def slots(self, ws):
        """Fresh optimizer state: Adam's moments, SGD's momentum buffers, or none."""
        import torch

        kind, hyper = self.config.optimizer, self.config.hyper
        count = 2 if kind == "adam" else (1 if hyper[0] != 0 else 0)
        return [[torch.zeros_like(w) for w in ws] for _ in range(count)]


def _expand(v, like):
    """(K,) -> broadcastable against a (K, ...) tensor."""
    return v.reshape((-1,) + (1,) * (like.dim() - 1))


def _rows(data, idx, own):
    """Each member's rows ``idx`` (K, b) of ``data``: shared (N, ...) or its own (K, N, ...)."""
    import torch

    K, b = idx.shape
    if own:     # member k's rows start at k * N in the flattened data
        flat = data.reshape((-1,) + tuple(data.shape[2:]))
        idx = idx + torch.arange(K)[:, None] * data.shape[1]
    else:
        flat = data
    return torch.index_select(flat, 0, idx.reshape(-1)).reshape((K, b) + tuple(flat.shape[1:]))


def _train(chunk, x_train, y_train, x_val, y_val, order, lr, ws):
    """Train the members for every epoch; returns the per-epoch records (numpy, leading
    axis K) and the final weights. ``order``: (K, E, n_train) per-member row order."""
    import torch

    config = chunk.config
    K, E, n_train = order.shape
    B = config.batch_size
    own = x_train.dim() == 3
    ws = [w.clone().requires_grad_(True) for w in ws]
    slots = chunk.slots(ws)
    y_train_k = y_train if own else y_train.expand((K,) + tuple(y_train.shape))
    y_val_k = y_val if own else y_val.expand((K,) + tuple(y_val.shape))
    records = {key: [] for key in ("out_train", "out_val", "loss_train", "loss_val",
                                   "grad_norm")}
    step = 0
    for e in range(E):
        total = torch.zeros(K)
        for start in range(0, n_train, B):
            idx = order[:, e, start:start + B]                       # (K, b)
            xb, yb = _rows(x_train, idx, own), _rows(y_train, idx, own)
            batch_loss = chunk.member_means(yb, chunk.outputs(chunk.forward(ws, xb)))
            grads = torch.autograd.grad(batch_loss.sum(), ws)
            with torch.no_grad():
                chunk.update(ws, grads, slots, step, lr)
                total += batch_loss * idx.shape[1]     # Keras' loss tracker
            step += 1
        head = [w.detach().requires_grad_(True) for w in ws[-2:]]
        body = [w.detach() for w in ws[:-2]]
        out_train = chunk.outputs(chunk.forward(body + head, x_train))
        gk, gb = torch.autograd.grad(chunk.member_means(y_train_k, out_train).sum(), head)
        with torch.no_grad():
            out_val = chunk.outputs(chunk.forward(body + head, x_val))
            for key, value in (("out_train", out_train), ("out_val", out_val),
                               ("loss_train", total / n_train),
                               ("loss_val", chunk.member_means(y_val_k, out_val)),
                               ("grad_norm", torch.sqrt((gk * gk).sum((1, 2))
                                                        + (gb * gb).sum(1)))):
                records[key].append(value.detach().numpy())
    res = {key: np.stack(v, axis=1) for key, v in records.items()}      # (K, E, ...)
    return res, [w.detach() for w in ws]


# --- chunks -> traces ----------------------------------------------------------------

_CHUNKS = {}


def _chunk(config, recipe):
    if config not in _CHUNKS:
        _CHUNKS[config] = _Chunk(config, recipe)
    return _CHUNKS[config]


def _tensors(config, setups, splits):
    """The chunk's inputs as tensors: data ((N, d) shared or (K, N, d)), targets, the
    row order (K, E, n_train), the learning rates (K,) and the initial weights."""
    import torch

    x_train, y_train, x_val, y_val, order, _, lr, ws = stacked._stack_inputs(
        config, setups, splits)
    n_train = x_train.shape[-2]
    as_t = torch.from_numpy
    return (as_t(x_train), as_t(np.asarray(y_train)), as_t(x_val), as_t(np.asarray(y_val)),
            as_t(np.ascontiguousarray(order[:, :, :n_train]).astype(np.int64)), as_t(lr),
            [as_t(np.ascontiguousarray(w)) for w in ws])


def _run_chunk(config, setups, splits, k=None, keep_outputs=False):
    """Train one chunk: (scored traces without seconds, final weights, wall seconds);
    as ``stacked._run_chunk``."""
    import torch

    start = time.perf_counter()
    extra = (k or len(setups)) - len(setups)
    chunk = _chunk(config, setups[0].recipe)
    inputs = _tensors(config, list(setups) + [setups[0]] * extra,
                      list(splits) + [splits[0]] * extra)
    res, final = _train(chunk, *inputs)

    def predict(x, members):
        with torch.no_grad():
            x = torch.from_numpy(np.asarray(x, np.float32))
            return chunk.outputs(chunk.forward([w[members] for w in final], x)).numpy()

    traces, weights = stacked.chunk_traces(config, res, setups, splits,
                                           [w.numpy() for w in final], predict, keep_outputs)
    return traces, weights, time.perf_counter() - start


def _group(setups, splits):
    """The TensorFlow trainer's groups (``stacked._groups``: setups that share a
    configuration and split sizes), each cut into as few chunks as the memory cap
    (``stacked.max_members`` with ``MAX_MEMBERS``) allows, of even sizes and without
    padding: nothing is compiled, so a chunk's size costs no new compile, and one large
    chunk pays the per-step overhead once (a digits step costs ~1.3 ms plus ~0.1 ms a
    member)."""
    chunks = []
    for (config, shapes), members in stacked._groups(setups, splits).items():
        if not isinstance(config, stacked._Config):    # an invalid setup: a chunk of its own
            chunks.append((config, members, 1))
            continue
        n_train, n_val, _ = shapes
        count = -(-len(members) // stacked.max_members(config, n_train, n_val, MAX_MEMBERS))
        for part in np.array_split(np.asarray(members), count):
            chunks.append((config, [int(i) for i in part], len(part)))
    return chunks


def iter_stacked(setups, split, keep_outputs=False):
    """Train ``setups`` on ``split`` in stacked chunks on PyTorch; yield ``(trace, final
    weights)`` per setup, in order, as ``recipes.training.stacked.iter_stacked`` does."""
    stacked.require_backend("torch", "PyTorch")
    setups = list(setups)
    splits = per_setup(split, len(setups))
    yield from stacked.run_chunks(_group(setups, splits), setups, splits, _run_chunk,
                                  keep_outputs, workers=WORKERS)


def train_stacked(setups, split, keep_outputs=False):
    """Every trace and final weights of ``iter_stacked``, in order
    (``stacked.StackedResult``)."""
    return stacked.collect(iter_stacked(setups, split, keep_outputs))


def iter_fit_stacked(setups, split):
    """The PyTorch stacked trainer as ``trainers.trainer("stacked")`` on the PyTorch
    backend: one scored Trace per setup, in order, each yielded as soon as it is ready."""
    for trace, _ in iter_stacked(setups, split):
        yield trace


def fit_stacked(setups, split):
    """One Trace per setup, in order (``fit_keras``'s contract), many runs per chunk."""
    return train_stacked(setups, split).traces
