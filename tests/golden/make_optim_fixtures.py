#!/usr/bin/python3
"""Writes the golden fixtures of the optimisers (tests/golden/fixtures/optim_*.safetensors).

Run with Debian's python3-torch:  /usr/bin/python3 tests/golden/make_optim_fixtures.py

Optimiser cases (SGD, Adam, AdamW): two float64 parameters `w` [2, 3] and
`b` [4] start at `w0` / `b0`; step k (k = 0..4) gives them the gradients
`w_grads[k]` / `b_grads[k]` and calls optimizer.step(); `w_after[k]` /
`b_after[k]` are the parameters after it. Where `b_has_grad[k]` is 0, b has no
gradient in step k (grad None: PyTorch skips it, and its state does not
advance). Hyper-parameters are stored as scalar tensors (F64; I64 for flags),
so the C++ test reads them instead of repeating them.

clip_grad_norm cases: gradients `a_grad` [3, 4] and `b_grad` [5], `max_norm`
and `norm_type`, the returned `total_norm` and the gradients after clipping.

Names are "<case>.<tensor>"; the metadata lists the cases in order (the
convention of make_fixtures.py). Each case seeds torch with the CRC-32 of its
name, so regenerating gives identical files. The safetensors files are written
by hand (no safetensors package needed).
"""
import math
import os

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
OUT_DIR = os.path.join(HERE, "fixtures")
GENERATOR = "tests/golden/make_optim_fixtures.py"
F64 = torch.float64
STEPS = 5

# One fixture writer for all generators (the ops generator's).
import make_fixtures  # noqa: E402


class Fixture(make_fixtures.Fixture):
    """The ops generator's fixture, written as fixtures/optim_<op>.safetensors, with scalar hyper-parameters."""

    def __init__(self, op):
        super().__init__(op, prefix="optim", generator=GENERATOR)

    def scalars(self, case, **values):
        for key, v in values.items():
            dtype = torch.int64 if isinstance(v, (bool, int)) else F64
            self.named.append((f"{case}.{key}", torch.tensor(int(v) if dtype == torch.int64 else v, dtype=dtype)))


def optimiser_case(fx, name, make_optimizer, b_has_grad=(1,) * STEPS, **hyper):
    fx.case(name)
    w = torch.randn(2, 3, dtype=F64).requires_grad_()
    b = torch.randn(4, dtype=F64).requires_grad_()
    w_grads = torch.randn(STEPS, 2, 3, dtype=F64)
    b_grads = torch.randn(STEPS, 4, dtype=F64)
    fx.put(name, w0=w, b0=b, w_grads=w_grads, b_grads=b_grads)
    opt = make_optimizer([w, b])
    w_after, b_after = [], []
    for k in range(STEPS):
        w.grad = w_grads[k].clone()
        b.grad = b_grads[k].clone() if b_has_grad[k] else None
        opt.step()
        w_after.append(w.detach().clone())
        b_after.append(b.detach().clone())
    fx.put(name, w_after=torch.stack(w_after), b_after=torch.stack(b_after),
           b_has_grad=torch.tensor(b_has_grad, dtype=torch.int64))
    fx.scalars(name, **hyper)


def sgd_fixture():
    fx = Fixture("sgd")
    for name, hyper, mask in [
        ("plain", dict(lr=0.1, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False), None),
        ("momentum", dict(lr=0.1, momentum=0.9, dampening=0.0, weight_decay=0.0, nesterov=False), (1, 1, 0, 1, 1)),
        ("nesterov", dict(lr=0.05, momentum=0.9, dampening=0.0, weight_decay=0.0, nesterov=True), None),
        ("weight_decay", dict(lr=0.05, momentum=0.9, dampening=0.1, weight_decay=0.01, nesterov=False), None),
    ]:
        optimiser_case(fx, name, lambda p, h=hyper: torch.optim.SGD(p, foreach=False, **h),
                       b_has_grad=mask or (1,) * STEPS, **hyper)
    fx.write()


def adam_fixture(op, cls, cases):
    fx = Fixture(op)
    for name, hyper, mask in cases:
        def make(p, h=hyper):
            return cls(p, lr=h["lr"], betas=(h["beta1"], h["beta2"]), eps=h["eps"],
                       weight_decay=h["weight_decay"], foreach=False)
        optimiser_case(fx, name, make, b_has_grad=mask or (1,) * STEPS, **hyper)
    fx.write()


def clip_fixture():
    fx = Fixture("clip_grad_norm")
    for name, max_norm, norm_type in [("l2_clipped", 0.5, 2.0), ("l2_unclipped", 100.0, 2.0),
                                      ("inf_clipped", 0.3, math.inf), ("p3_clipped", 0.7, 3.0)]:
        fx.case(name)
        a = torch.randn(3, 4, dtype=F64, requires_grad=True)
        b = torch.randn(5, dtype=F64, requires_grad=True)
        a.grad = torch.randn(3, 4, dtype=F64)
        b.grad = torch.randn(5, dtype=F64)
        fx.put(name, a_grad=a.grad, b_grad=b.grad)
        total = torch.nn.utils.clip_grad_norm_([a, b], max_norm, norm_type)
        fx.put(name, total_norm=total, a_grad_after=a.grad, b_grad_after=b.grad)
        fx.scalars(name, max_norm=max_norm, norm_type=norm_type)
    fx.write()


def main():
    torch.set_num_threads(1)
    os.makedirs(OUT_DIR, exist_ok=True)
    sgd_fixture()
    adam_fixture("adam", torch.optim.Adam, [
        ("default", dict(lr=1e-2, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0), (1, 0, 1, 1, 1)),
        ("weight_decay", dict(lr=1e-2, beta1=0.8, beta2=0.99, eps=1e-6, weight_decay=0.1), None),
    ])
    adam_fixture("adamw", torch.optim.AdamW, [
        ("weight_decay", dict(lr=1e-2, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.1), (1, 1, 1, 0, 1)),
        ("large_lr", dict(lr=0.3, beta1=0.5, beta2=0.9, eps=1e-3, weight_decay=0.5), None),
    ])
    clip_fixture()


if __name__ == "__main__":
    main()
