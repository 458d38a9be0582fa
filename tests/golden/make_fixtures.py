#!/usr/bin/python3
"""Writes the golden fixtures of the engine's ops (tests/golden/fixtures/ops_*.safetensors).

Run with Debian's python3-torch:  /usr/bin/python3 tests/golden/make_fixtures.py

Each case stores its inputs and parameters, the output `out`, a fixed random
upstream gradient `g` of the output's shape, and `grad_<name>` for every
differentiable input and parameter: what (out * g).sum().backward() gives.
Integer settings of a case (stride, padding, sizes, ...) are stored as I64
tensors, so the C++ tests read them from the fixture instead of repeating them.
Names are "<case>.<tensor>"; the metadata lists the cases in order.

Everything is computed in float64 (the `_f32` cases in float32). Each case
seeds torch with the CRC-32 of its name, so regenerating gives identical files
and adding a case leaves the others unchanged. The safetensors files are
written by hand (no safetensors package needed).
"""
import json
import os
import struct
import zlib

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
OUT_DIR = os.path.join(HERE, "fixtures")
GENERATOR = "tests/golden/make_fixtures.py"
F64 = torch.float64
F32 = torch.float32

DTYPE_CODES = {torch.float64: ("F64", "<f8"), torch.float32: ("F32", "<f4"), torch.int64: ("I64", "<i8")}


def write_safetensors(path, named, metadata):
    """named: list of (name, tensor); data is laid out in list order."""
    header, blobs, offset = {}, [], 0
    for name, t in named:
        code, np_dtype = DTYPE_CODES[t.dtype]
        data = t.detach().contiguous().numpy().astype(np_dtype).tobytes()
        header[name] = {"dtype": code, "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header["__metadata__"] = metadata
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)  # pad so the data starts 8-byte aligned
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


class Fixture:
    """Collects the cases of one file, fixtures/<prefix>_<op>.safetensors."""

    def __init__(self, op, prefix="ops", generator=GENERATOR):
        self.op = op
        self.prefix = prefix
        self.generator = generator
        self.cases = []
        self.named = []

    def case(self, name):
        torch.manual_seed(zlib.crc32(name.encode()))
        self.cases.append(name)
        return name

    def put(self, case, **tensors):
        for key, t in tensors.items():
            self.named.append((f"{case}.{key}", t.detach().clone()))

    def ints(self, case, **values):
        for key, v in values.items():
            v = list(v) if isinstance(v, (list, tuple)) else [v]
            self.named.append((f"{case}.{key}", torch.tensor(v, dtype=torch.int64)))

    def write(self):
        path = os.path.join(OUT_DIR, f"{self.prefix}_{self.op}.safetensors")
        meta = {"torch_version": torch.__version__, "generator": self.generator, "op": self.op,
                "cases": ",".join(self.cases)}
        write_safetensors(path, self.named, meta)
        print(f"{os.path.relpath(path, os.path.dirname(os.path.dirname(HERE)))}: "
              f"{len(self.cases)} cases, {os.path.getsize(path)} bytes")


def leaf(t):
    return t.detach().clone().requires_grad_(True)


def randn(*shape, dtype=F64):
    return leaf(torch.randn(*shape, dtype=dtype))


def backward_with_random_g(out):
    """Draws g of out's shape, runs (out * g).sum().backward() and returns g."""
    g = torch.randn(out.shape, dtype=out.dtype)
    (out * g).sum().backward()
    return g


def distinct(*shape, dtype=F64):
    """Values without ties (a scaled random permutation), so max-pool's arg-max is unique."""
    n = 1
    for s in shape:
        n *= s
    values = (torch.randperm(n).to(dtype) - n / 2) * 0.25
    return leaf(values.reshape(shape))


def conv2d():
    fx = Fixture("conv2d")
    # name, H, W, kh, kw, stride, padding, dilation, bias, dtype
    specs = [
        ("k3_s1_p1", 6, 5, 3, 3, (1, 1), (1, 1), (1, 1), True, F64),
        ("k3_s1_p1_nobias", 6, 5, 3, 3, (1, 1), (1, 1), (1, 1), False, F64),
        ("k3_s2_p0_7x9", 7, 9, 3, 3, (2, 2), (0, 0), (1, 1), True, F64),
        ("k2x3_d2_p1x2", 6, 7, 2, 3, (1, 1), (1, 2), (2, 2), True, F64),
        ("k2x3_d2_p1x2_nobias", 6, 7, 2, 3, (1, 1), (1, 2), (2, 2), False, F64),
        ("k3_s2x1_p1x0_d1x2", 7, 8, 3, 3, (2, 1), (1, 0), (1, 2), True, F64),
        ("k1", 4, 5, 1, 1, (1, 1), (0, 0), (1, 1), True, F64),
        ("k1_nobias", 4, 5, 1, 1, (1, 1), (0, 0), (1, 1), False, F64),
        ("k3_s1_p1_f32", 6, 5, 3, 3, (1, 1), (1, 1), (1, 1), True, F32),
    ]
    for name, h, w, kh, kw, stride, padding, dilation, has_bias, dtype in specs:
        c = fx.case(name)
        x = randn(2, 3, h, w, dtype=dtype)
        weight = randn(5, 3, kh, kw, dtype=dtype)
        bias = randn(5, dtype=dtype) if has_bias else None
        out = F.conv2d(x, weight, bias, stride=stride, padding=padding, dilation=dilation)
        g = backward_with_random_g(out)
        fx.put(c, x=x, weight=weight, out=out, g=g, grad_x=x.grad, grad_weight=weight.grad)
        if has_bias:
            fx.put(c, bias=bias, grad_bias=bias.grad)
        fx.ints(c, stride=stride, padding=padding, dilation=dilation)
    fx.write()


def max_pool2d():
    fx = Fixture("max_pool2d")
    # name, H, W, kernel, stride, padding, dilation, ceil_mode
    specs = [
        ("k2_s2_6x8", 6, 8, 2, 2, 0, 1, False),
        ("k3_s2_p1_7x7", 7, 7, 3, 2, 1, 1, False),
        ("k3_s2_p1_6x5", 6, 5, 3, 2, 1, 1, False),
        ("k3_s1_d2_7x7", 7, 7, 3, 1, 0, 2, False),
        ("k2_s2_ceil_7x7", 7, 7, 2, 2, 0, 1, True),
        ("k3_s2_ceil_7x7", 7, 7, 3, 2, 0, 1, True),
        ("k2_s2_ceil_5x6", 5, 6, 2, 2, 0, 1, True),
        ("k3_s2_ceil_5x6", 5, 6, 3, 2, 0, 1, True),
        # ceil mode drops a last window that would start inside the right padding
        ("k2_s2_p1_ceil_5x5", 5, 5, 2, 2, 1, 1, True),
    ]
    for name, h, w, k, s, p, d, ceil in specs:
        c = fx.case(name)
        x = distinct(2, 3, h, w)
        out = F.max_pool2d(x, k, s, p, d, ceil_mode=ceil)
        g = backward_with_random_g(out)
        fx.put(c, x=x, out=out, g=g, grad_x=x.grad)
        fx.ints(c, kernel=(k, k), stride=(s, s), padding=(p, p), dilation=(d, d), ceil_mode=int(ceil))
    fx.write()


def adaptive_avg_pool2d():
    fx = Fixture("adaptive_avg_pool2d")
    specs = [("5x9_to_3x4", (5, 9), (3, 4)), ("7x7_to_7x7", (7, 7), (7, 7)),
             ("1x1_to_7x7", (1, 1), (7, 7)), ("6x6_to_4x4", (6, 6), (4, 4)),
             ("7x5_to_2x3", (7, 5), (2, 3))]
    for name, (h, w), size in specs:
        c = fx.case(name)
        x = randn(2, 3, h, w)
        out = F.adaptive_avg_pool2d(x, size)
        g = backward_with_random_g(out)
        fx.put(c, x=x, out=out, g=g, grad_x=x.grad)
        fx.ints(c, output_size=size)
    fx.write()


def batch_norm():
    fx = Fixture("batch_norm")
    momentum, eps = 0.1, 1e-5
    # name, input shape, training, dtype
    specs = [("train_4d", (4, 3, 5, 4), True, F64), ("train_2d", (6, 4), True, F64),
             ("eval_4d", (4, 3, 5, 4), False, F64), ("train_4d_f32", (4, 3, 5, 4), True, F32)]
    for name, shape, training, dtype in specs:
        c = fx.case(name)
        ch = shape[1]
        x = leaf(torch.randn(shape, dtype=dtype) * 2.0 + 0.5)
        weight = leaf(torch.rand(ch, dtype=dtype) + 0.5)
        bias = randn(ch, dtype=dtype)
        running_mean = torch.randn(ch, dtype=dtype) * 0.3
        running_var = torch.rand(ch, dtype=dtype) + 0.5
        fx.put(c, x=x, weight=weight, bias=bias, running_mean=running_mean, running_var=running_var)
        out = F.batch_norm(x, running_mean, running_var, weight, bias, training=training, momentum=momentum,
                           eps=eps)  # updates running_mean / running_var in place when training
        g = backward_with_random_g(out)
        fx.put(c, out=out, g=g, grad_x=x.grad, grad_weight=weight.grad, grad_bias=bias.grad,
               running_mean_after=running_mean, running_var_after=running_var)
        fx.ints(c, training=int(training))
    fx.write()


def cross_entropy():
    fx = Fixture("cross_entropy")
    # name, N, C, logit scale, dtype; labels are int64, targets are distributions
    for name, n, k, scale, dtype in [("labels", 6, 5, 1.0, F64), ("labels_large_logits", 4, 7, 100.0, F64),
                                     ("labels_f32", 6, 5, 1.0, F32)]:
        c = fx.case(name)
        logits = leaf(torch.randn(n, k, dtype=dtype) * scale)
        labels = torch.randint(0, k, (n,), dtype=torch.int64)
        out = F.cross_entropy(logits, labels)
        g = backward_with_random_g(out)
        fx.put(c, logits=logits, labels=labels, out=out, g=g, grad_logits=logits.grad)
    for name, n, k, scale, dtype in [("probs", 6, 5, 1.0, F64), ("probs_large_logits", 4, 7, 100.0, F64),
                                     ("probs_f32", 6, 5, 1.0, F32)]:
        c = fx.case(name)
        logits = leaf(torch.randn(n, k, dtype=dtype) * scale)
        target = torch.softmax(torch.randn(n, k, dtype=dtype) * 2.0, dim=1)
        out = F.cross_entropy(logits, target)
        g = backward_with_random_g(out)
        fx.put(c, logits=logits, target=target, out=out, g=g, grad_logits=logits.grad)
    fx.write()


def mse_loss():
    fx = Fixture("mse_loss")
    for name, shape in [("2d", (3, 4)), ("4d", (2, 3, 4, 5))]:
        c = fx.case(name)
        a, b = randn(*shape), randn(*shape)
        out = F.mse_loss(a, b)
        g = backward_with_random_g(out)
        fx.put(c, a=a, b=b, out=out, g=g, grad_a=a.grad, grad_b=b.grad)
    fx.write()


def linear():
    fx = Fixture("linear")
    for name, n, i, o, has_bias, dtype in [("bias", 4, 7, 3, True, F64), ("nobias", 5, 6, 4, False, F64),
                                           ("bias_f32", 4, 7, 3, True, F32)]:
        c = fx.case(name)
        x, weight = randn(n, i, dtype=dtype), randn(o, i, dtype=dtype)
        bias = randn(o, dtype=dtype) if has_bias else None
        out = F.linear(x, weight, bias)
        g = backward_with_random_g(out)
        fx.put(c, x=x, weight=weight, out=out, g=g, grad_x=x.grad, grad_weight=weight.grad)
        if has_bias:
            fx.put(c, bias=bias, grad_bias=bias.grad)
    fx.write()


def softmax():
    fx = Fixture("softmax")
    # name, shape, axis, scale (large values test the max subtraction)
    specs = [("2d_axis1", (3, 5), 1, 1.0), ("3d_axis1", (2, 3, 4), 1, 1.0), ("3d_axis_last", (2, 3, 4), -1, 1.0),
             ("2d_axis0", (4, 3), 0, 1.0), ("2d_large", (3, 6), 1, 300.0)]
    for name, shape, axis, scale in specs:
        c = fx.case(name)
        x = leaf(torch.randn(shape, dtype=F64) * scale)
        out = torch.softmax(x, dim=axis)
        g = backward_with_random_g(out)
        fx.put(c, x=x, out=out, g=g, grad_x=x.grad)
        x.grad = None
        log_out = torch.log_softmax(x, dim=axis)
        log_g = backward_with_random_g(log_out)
        fx.put(c, log_out=log_out, log_g=log_g, log_grad_x=x.grad)
        fx.ints(c, axis=axis)
    fx.write()


def upsample_nearest():
    fx = Fixture("upsample_nearest")
    for name, (h, w), size in [("1x1_to_3x3", (1, 1), (3, 3)), ("3x3_to_6x6", (3, 3), (6, 6)),
                               ("2x3_to_5x4", (2, 3), (5, 4)), ("4x3_to_8x6", (4, 3), (8, 6))]:
        c = fx.case(name)
        x = randn(2, 3, h, w)
        out = F.interpolate(x, size=size, mode="nearest")
        g = backward_with_random_g(out)
        fx.put(c, x=x, out=out, g=g, grad_x=x.grad)
        fx.ints(c, output_size=size)
    fx.write()


def prelu():
    fx = Fixture("prelu")
    for name, shape, slopes in [("per_channel_4d", (2, 3, 4, 4), 3), ("shared_4d", (2, 3, 4, 4), 1),
                                ("per_channel_2d", (5, 4), 4)]:
        c = fx.case(name)
        x = randn(*shape)
        weight = leaf(torch.rand(slopes, dtype=F64) * 0.5 - 0.1)
        out = F.prelu(x, weight)
        g = backward_with_random_g(out)
        fx.put(c, x=x, weight=weight, out=out, g=g, grad_x=x.grad, grad_weight=weight.grad)
    fx.write()


def cosine_similarity():
    fx = Fixture("cosine_similarity")
    eps = 1e-8
    for name, a_shape, b_shape, axis in [("2d_axis1", (4, 6), (4, 6), 1), ("3d_axis1", (2, 3, 5), (2, 3, 5), 1),
                                         ("3d_axis_last", (2, 3, 5), (2, 3, 5), -1),
                                         ("broadcast_b", (4, 6), (1, 6), 1)]:
        c = fx.case(name)
        a, b = randn(*a_shape), randn(*b_shape)
        out = F.cosine_similarity(a, b, dim=axis, eps=eps)
        g = backward_with_random_g(out)
        fx.put(c, a=a, b=b, out=out, g=g, grad_a=a.grad, grad_b=b.grad)
        fx.ints(c, axis=axis)
    fx.write()


def normalize():
    fx = Fixture("normalize")
    eps = 1e-12
    for name, shape, axis in [("2d_axis1", (4, 6), 1), ("3d_axis1", (2, 3, 4), 1), ("3d_axis_last", (2, 3, 4), -1)]:
        c = fx.case(name)
        x = randn(*shape)
        out = F.normalize(x, p=2.0, dim=axis, eps=eps)
        g = backward_with_random_g(out)
        fx.put(c, x=x, out=out, g=g, grad_x=x.grad)
        fx.ints(c, axis=axis)
    fx.write()


def main():
    torch.set_num_threads(1)  # one summation order, whatever the machine
    os.makedirs(OUT_DIR, exist_ok=True)
    for make in [conv2d, max_pool2d, adaptive_avg_pool2d, batch_norm, cross_entropy, mse_loss, linear, softmax,
                 upsample_nearest, prelu, cosine_similarity, normalize]:
        make()


if __name__ == "__main__":
    main()
