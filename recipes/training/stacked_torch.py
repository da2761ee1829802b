"""The stacked trainer on the PyTorch backend: many runs as slices of batched tensors,
trained by PyTorch's eager ops and autograd.

``TorchTrainer`` is a ``recipes.training.engine.StackedTrainer`` (``fit_stacked``,
``iter_fit_stacked``, ...: the contract of the TensorFlow one,
``recipes.training.stacked_tensorflow``) and needs ``KERAS_BACKEND=torch``. It lays the work out as the TensorFlow trainer does and
reproduces plain ``model.fit`` on PyTorch run for run:

* **Groups, initial weights, batch order**: the TensorFlow trainer's (``members.config``,
  ``members.stack_inputs``): setups sharing hidden widths, head, loss, encoding,
  optimizer class and hyperparameters, batch size, epochs and split sizes share a group;
  every member starts from ``models.initial_weights`` for its seed and sees its rows in
  ``trace.batch_order``'s order for its seed, cut into batches of ``batch_size`` with a
  short last batch, as ``fit_keras`` feeds ``model.fit``. ``NotStackable``
  configurations are refused up front as there.
* **Forward pass**: weights with a leading member axis ``K`` (kernels ``(K, in, out)``),
  layers as batched matmuls (``torch.bmm``), ReLU between them, and the head's Keras
  activation (``keras.activations.get``) on the head's pre-activations.
* **Loss**: the run's Keras loss with reduction "none" (``Setup.loss``),
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
* **Backbones** (``_Backbone``): ``torch.func.vmap`` over ``torch.func.grad`` of the
  model's own ``stateless_call`` and the run's Keras loss, for the layers of
  ``members.BACKBONE_BACKENDS["torch"]`` (no convolution, no Dropout:
  docs/backends-stacking.md has the measured reasons); the same optimizer arithmetic.
* **Divergence, failures, seconds, memory**: the engine's (``recipes.training.engine``:
  ``chunk_traces``, ``run_chunks`` and its failure guard): a member with a non-finite
  epoch train loss or outputs is ``"diverged"`` with its history up to that epoch; an
  exception in a chunk makes its runs ``"failed"``.

Nothing is compiled: an eager step costs a few dozen PyTorch calls whatever ``K`` is,
so a group is one chunk as large as the memory cap allows (``engine.even_chunks``, at most
``MAX_MEMBERS``). Measured on
digits (2 cores, 20 epochs, SGD): one chunk of 40 runs trains in 3.0 s, the same runs as
two chunks of 20 on two threads in 3.4 s, so groups are never cut to feed threads; but
two groups' chunks train side by side (``engine.WORKERS`` threads: 3.35-3.45 s for two groups
of 20 runs, 4.05 s one after the other), as one thread's Python work overlaps the
other's kernels.
"""

from __future__ import annotations

import numpy as np

from . import members
from .engine import StackedTrainer, chunk_traces, even_chunks

__all__ = ["MAX_MEMBERS", "TRAINER", "TorchTrainer", "fit_stacked", "iter_fit_stacked",
           "iter_stacked", "train_stacked"]

# The largest chunk.
MAX_MEMBERS = 64


class TorchTrainer(StackedTrainer):
    """The stacked trainer on PyTorch (``recipes.training.engine.StackedTrainer``)."""

    cap = MAX_MEMBERS

    def group_key(self, setup, split):
        return members.config(setup, split)

    def chunks(self, groups):
        """As few chunks per group as the memory cap allows, even and unpadded: nothing
        is compiled, so a chunk's size costs no new compile, and one large chunk pays the
        per-step overhead once (a digits step costs ~1.3 ms plus ~0.1 ms a member)."""
        return even_chunks(groups, self.cap)

    def start(self):
        members.require_backend("torch", "PyTorch")

    def run_chunk(self, config, setups, splits, size, keep_outputs):
        """Train one chunk: its members' scored traces (without seconds) and final weights."""
        import torch

        if config.backbone:
            return _Backbone.of(config, setups[0], splits[0]).run(setups, splits,
                                                                   keep_outputs)
        chunk = _chunk(config, setups[0])
        res, final = _train(chunk, *_tensors(config, setups, splits))

        def predict(x, which):
            with torch.no_grad():
                x = torch.from_numpy(np.asarray(x, np.float32))
                return chunk.outputs(chunk.forward([w[which] for w in final], x)).numpy()

        return chunk_traces(res, setups, splits, [w.numpy() for w in final], predict,
                            keep_outputs)


# --- one chunk's arithmetic --------------------------------------------------------------

class _Chunk:
    """The forward pass, loss and optimizer step of one configuration, on tensors with a
    leading member axis."""

    def __init__(self, config, setup):
        import keras

        self.config = config
        self.loss_fn = setup.loss(reduction="none")
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

    def member_means(self, y, out, w=None):
        """Each member's loss, (K,): the per-sample losses averaged over its rows; ``w``
        (K, n): the rows' weights (class_weight), summed weighted and divided by the rows'
        count, as Keras' "sum_over_batch_size"."""
        K, n = out.shape[:2]
        y = y.reshape((K * n,) + tuple(y.shape[2:]))
        losses = self.loss_fn(y, out.reshape((K * n,) + tuple(out.shape[2:]))).reshape(K, n)
        return losses.mean(1) if w is None else (losses * w).sum(1) / n

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


class _Records:
    """What an epoch records per member (``KEYS``), gathered by both training loops (the
    MLP's and a backbone's): ``add`` one epoch's tensors (leading axis K, in ``KEYS``
    order); ``stacked`` the records as numpy arrays (K, E, ...)."""

    KEYS = ("out_train", "out_val", "loss_train", "loss_val", "grad_norm")

    def __init__(self):
        self.epochs = []

    def add(self, *values):
        self.epochs.append([v.detach().numpy() for v in values])

    def stacked(self):
        return {key: np.stack(v, axis=1) for key, v in zip(self.KEYS, zip(*self.epochs))}


def _batches(order, e, batch_size):
    """Epoch ``e``'s batches of ``order`` (K, E, n_train): each member's rows, (K, b)."""
    n_train = order.shape[-1]
    return (order[:, e, start:start + batch_size] for start in range(0, n_train, batch_size))


def _train(chunk, x_train, y_train, x_val, y_val, w_train, order, lr, ws):
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
    records = _Records()
    step = 0
    for e in range(E):
        total = torch.zeros(K)
        for idx in _batches(order, e, B):                            # (K, b)
            xb, yb = _rows(x_train, idx, own), _rows(y_train, idx, own)
            wb = _rows(w_train, idx, own)                            # (K, b)
            batch_loss = chunk.member_means(yb, chunk.outputs(chunk.forward(ws, xb)), wb)
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
            records.add(out_train, out_val, total / n_train,
                        chunk.member_means(y_val_k, out_val),
                        torch.sqrt((gk * gk).sum((1, 2)) + (gb * gb).sum(1)))
    return records.stacked(), [w.detach() for w in ws]


# --- a backbone: Keras' stateless_call under torch.func.vmap ------------------------------

class _Backbone:
    """A backbone configuration's training (``members.BACKBONE_BACKENDS["torch"]``: no
    convolution, no Dropout, docs/backends-stacking.md says why): per batch, one
    ``torch.func.vmap`` over the members of ``torch.func.grad`` of the model's own
    ``stateless_call`` and the run's Keras loss, each member with its own trainable and
    non-trainable variables (BatchNormalization's moving statistics) and its own rows
    (``trace.batch_order``, the plain-fit run's batches with their short last batch);
    the update is ``_Chunk.update``'s Keras PyTorch Adam/SGD arithmetic on the stacked
    trainable variables (frozen layers' weights are non-trainable, so they never move).
    ``randomness="error"``: a random op in the model is an error, never masks other than
    the plain-fit run's. Epoch-end records member by member, in inference mode, as
    ``keras_fit`` takes them."""

    _BUILT = {}

    def __init__(self, config, setup, model):
        self.config, self.model, self.loss_fn = config, model, setup.loss()
        self.T = len(model.trainable_variables)
        self.is_head = members.head_mask(model)
        self.optimizer = _Chunk(config, setup)          # its update and slots

    @classmethod
    def of(cls, config, setup, split):
        """The ``_Backbone`` of ``config`` (``setup``, ``split``: any of it), built once."""
        if config not in cls._BUILT:
            cls._BUILT[config] = cls(config, setup, setup.build_model(split, compile=False))
        return cls._BUILT[config]

    def batch_loss(self, ws, nts, x, y, w):
        """One member's batch loss (its Keras loss with the rows' weights, plus the
        layers' own losses as Keras' ``compute_loss`` adds them), and as aux the loss
        and the updated non-trainable variables."""
        import torch

        out, nts, extra = self.model.stateless_call(list(ws), list(nts), x, training=True,
                                                    return_losses=True)
        loss = self.loss_fn(y, out, sample_weight=w)
        for term in extra:
            loss = loss + torch.sum(term.to(loss.dtype))
        return loss, (loss, list(nts))

    def member_records(self, ws, nts, x_train, y_train, x_val, y_val):
        """One member's epoch-end records: outputs on train and val (inference), the val
        loss and the global norm of the loss's gradient on the head's weights."""
        import torch

        head = [w.detach().requires_grad_(True) for w, h in zip(ws, self.is_head) if h]
        full = members.with_head(ws, self.is_head, head)
        out_train, _ = self.model.stateless_call(full, list(nts), x_train, training=False)
        grads = torch.autograd.grad(self.loss_fn(y_train, out_train), head)
        with torch.no_grad():
            out_val, _ = self.model.stateless_call(list(ws), list(nts), x_val, training=False)
            val_loss = self.loss_fn(y_val, out_val)
            norm = torch.sqrt(sum(torch.sum(g.double() ** 2) for g in grads))
        return out_train.detach(), out_val, val_loss, norm.float()

    def train(self, x_train, y_train, x_val, y_val, w_train, order, lr, ws, nts):
        """Every epoch of the chunk: the records (numpy, (K, E, ...)) and the final
        trainable then non-trainable variables."""
        import torch
        from torch.func import grad, vmap

        K, E, n_train = order.shape
        B, own = self.config.batch_size, x_train.dim() == len(self.config.input[0]) + 2
        step_fn = vmap(grad(self.batch_loss, has_aux=True), randomness="error")
        slots = self.optimizer.slots(ws)
        member = (lambda a, k: a[k]) if own else (lambda a, k: a)
        records = _Records()
        step = 0
        for e in range(E):
            total = torch.zeros(K)
            for idx in _batches(order, e, B):                        # (K, b)
                grads, (losses, new_nts) = step_fn(
                    ws, nts, *(_rows(a, idx, own) for a in (x_train, y_train, w_train)))
                with torch.no_grad():
                    self.optimizer.update(ws, grads, slots, step, lr)
                nts = [v.detach() for v in new_nts]
                total += losses.detach() * idx.shape[1]              # Keras' loss tracker
                step += 1
            per = [self.member_records([w[k] for w in ws], [v[k] for v in nts],
                                       member(x_train, k), member(y_train, k),
                                       member(x_val, k), member(y_val, k)) for k in range(K)]
            out_train, out_val, loss_val, grad_norm = (torch.stack(r) for r in zip(*per))
            records.add(out_train, out_val, total / n_train, loss_val, grad_norm)
        return records.stacked(), [w.detach().numpy() for w in ws + nts]

    def run(self, setups, splits, keep_outputs):
        """``TorchTrainer.run_chunk`` for this backbone's chunk."""
        import torch

        x_train, y_train, x_val, y_val, w_train, order, valid, lr, ws = members.stack_inputs(
            self.config, setups, splits)
        n_train = int(valid.sum())
        as_t = torch.from_numpy
        tensors = [as_t(np.ascontiguousarray(a)) for a in (x_train, np.asarray(y_train), x_val,
                                                           np.asarray(y_val), w_train)]
        res, final = self.train(*tensors, as_t(np.ascontiguousarray(order[:, :, :n_train])
                                               .astype(np.int64)), as_t(lr),
                                [as_t(np.ascontiguousarray(w)) for w in ws[:self.T]],
                                [as_t(np.ascontiguousarray(w)) for w in ws[self.T:]])

        def predict(x, which):
            x = members.as_input(x)
            with torch.no_grad():
                return np.stack([self.model.stateless_call(
                    [torch.from_numpy(w[m]) for w in final[:self.T]],
                    [torch.from_numpy(w[m]) for w in final[self.T:]], x,
                    training=False)[0].numpy() for m in which])

        return chunk_traces(res, setups, splits, final, predict, keep_outputs)


# --- a chunk's arguments -----------------------------------------------------------------

_CHUNKS = {}


def _chunk(config, setup):
    """The ``_Chunk`` of ``config`` (``setup``: any setup of it), built once."""
    if config not in _CHUNKS:
        _CHUNKS[config] = _Chunk(config, setup)
    return _CHUNKS[config]


def _tensors(config, setups, splits):
    """The chunk's inputs as tensors: data ((N, d) shared or (K, N, d)), targets, the
    row order (K, E, n_train), the learning rates (K,) and the initial weights."""
    import torch

    x_train, y_train, x_val, y_val, w_train, order, _, lr, ws = members.stack_inputs(
        config, setups, splits)
    n_train = x_train.shape[-2]
    as_t = torch.from_numpy
    return (as_t(x_train), as_t(np.asarray(y_train)), as_t(x_val), as_t(np.asarray(y_val)),
            as_t(np.ascontiguousarray(w_train)),
            as_t(np.ascontiguousarray(order[:, :, :n_train]).astype(np.int64)), as_t(lr),
            [as_t(np.ascontiguousarray(w)) for w in ws])


# this backend's trainer, and its methods under the module's names
# (``trainers.STACKED`` names iter_fit_stacked)
TRAINER = TorchTrainer()
iter_stacked = TRAINER.iter_train
train_stacked = TRAINER.train
iter_fit_stacked = TRAINER.iter_fit
fit_stacked = TRAINER.fit
