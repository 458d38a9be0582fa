#!/usr/bin/python3
"""The PyTorch peer of `sceald benchmark --arch vgg16`: the same network, the
same step, the same timing rule, so bench/compare_peers.sh can interleave
the two and take ratios.

The network is torchvision's vgg16 (configuration D, the adaptive 7x7 pool and
the 25088-input fc6) with `num_classes` outputs, written out here because
Debian packages no torchvision; `--width-mult` scales every width exactly as
nets/vgg16.cpp does (rounded, at least 1). A training step is forward,
cross-entropy, backward and SGD with momentum 0.9, as in ours.

Prints one JSON object with the keys `sceald benchmark --json` writes:
train_images_per_s, forward_images_per_s, train_ms_per_step,
forward_ms_per_step, peak_rss_bytes (VmHWM of this process).

Threads: OMP_NUM_THREADS and OPENBLAS_NUM_THREADS must be set by the caller
(OpenBLAS ignores torch.set_num_threads); --threads also calls
torch.set_num_threads for oneDNN and ATen.
"""
import argparse
import json
import statistics
import time

import torch
import torch.nn as nn

CFG_D = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]


def scaled(n, width):
    return max(1, int(round(n * width)))


def vgg16(num_classes, in_channels, width):
    layers, c = [], in_channels
    for v in CFG_D:
        if v == "M":
            layers.append(nn.MaxPool2d(2, 2))
        else:
            out = scaled(v, width)
            layers += [nn.Conv2d(c, out, 3, padding=1), nn.ReLU(inplace=True)]
            c = out
    hidden = scaled(4096, width)
    return nn.Sequential(
        nn.Sequential(*layers),
        nn.AdaptiveAvgPool2d((7, 7)),
        nn.Flatten(),
        nn.Linear(c * 49, hidden), nn.ReLU(True), nn.Dropout(),
        nn.Linear(hidden, hidden), nn.ReLU(True), nn.Dropout(),
        nn.Linear(hidden, num_classes),
    )


def peak_rss_bytes():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def median_ms(fn, steps):
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--image-size", type=int, default=48)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--width-mult", type=float, default=1.0)
    p.add_argument("--in-channels", type=int, default=3)
    p.add_argument("--num-classes", type=int, default=7)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--warmup", type=int, default=2)
    a = p.parse_args()
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    net = vgg16(a.num_classes, a.in_channels, a.width_mult)
    x = torch.randn(a.batch_size, a.in_channels, a.image_size, a.image_size)
    y = torch.randint(0, a.num_classes, (a.batch_size,))
    opt = torch.optim.SGD(net.parameters(), lr=1e-3, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()

    def train_step():
        opt.zero_grad(set_to_none=True)
        loss_fn(net(x), y).backward()
        opt.step()

    def forward_step():
        with torch.no_grad():
            net(x)

    net.train()
    for _ in range(a.warmup):
        train_step()
    train_ms = median_ms(train_step, a.steps)
    net.eval()
    for _ in range(a.warmup):
        forward_step()
    forward_ms = median_ms(forward_step, a.steps)
    print(json.dumps({
        "peer": "pytorch " + torch.__version__,
        "arch": "vgg16", "image_size": a.image_size, "batch_size": a.batch_size,
        "width_mult": a.width_mult, "threads": torch.get_num_threads(),
        "train_ms_per_step": train_ms, "forward_ms_per_step": forward_ms,
        "train_images_per_s": a.batch_size * 1e3 / train_ms,
        "forward_images_per_s": a.batch_size * 1e3 / forward_ms,
        "peak_rss_bytes": peak_rss_bytes(),
    }))


if __name__ == "__main__":
    main()
