#!/usr/bin/python3
"""The PyTorch (oneDNN) peer of bench/bench_conv: each of VGG16's 13 conv
layers at 48x48 batch 64, forward (conv2d with bias, no grad) and backward
(grad input + grad weight + grad bias of one conv2d), with the same inputs'
shapes and the same GFLOP/s rule (2 x multiply-adds of the padded im2col
product per output element; backward counts twice the forward's work).

Prints one line per layer: name, forward ms and GFLOP/s, backward ms and
GFLOP/s (medians of --repeats timed calls after two warm-up calls).

  OMP_NUM_THREADS=2 bench/peer_pytorch_conv.py --threads 2
  OMP_NUM_THREADS=2 build/bench/bench_conv --benchmark_filter='48x48.*/(fwd|bwd)/'
"""
import argparse
import statistics
import time

import torch

LAYERS = [("conv1_1", 3, 64, 1), ("conv1_2", 64, 64, 1), ("conv2_1", 64, 128, 2), ("conv2_2", 128, 128, 2),
          ("conv3_1", 128, 256, 4), ("conv3_2", 256, 256, 4), ("conv3_3", 256, 256, 4), ("conv4_1", 256, 512, 8),
          ("conv4_2", 512, 512, 8), ("conv4_3", 512, 512, 8), ("conv5_1", 512, 512, 16),
          ("conv5_2", 512, 512, 16), ("conv5_3", 512, 512, 16)]


def median_s(repeats, call, before=None):
    times = []
    for i in range(repeats + 2):
        if before:
            before()
        t0 = time.perf_counter()
        call()
        if i >= 2:
            times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0: leave it)")
    parser.add_argument("--image-size", type=int, default=48)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(7)
    print(f"pytorch {torch.__version__}, {torch.get_num_threads()} thread(s), "
          f"VGG16 convs at {args.image_size}x{args.image_size} batch {args.batch_size}")
    for name, cin, cout, div in LAYERS:
        side = args.image_size // div
        x = torch.randn(args.batch_size, cin, side, side, requires_grad=True)
        w = (torch.randn(cout, cin, 3, 3) * 0.05).requires_grad_()
        b = (torch.randn(cout) * 0.1).requires_grad_()
        flops = 2.0 * args.batch_size * side * side * cout * cin * 9
        with torch.no_grad():
            fwd = median_s(args.repeats, lambda: torch.nn.functional.conv2d(x, w, b, padding=1))
        state = {}

        def make_graph():
            state["y"] = torch.nn.functional.conv2d(x, w, b, padding=1)
            state["g"] = torch.ones_like(state["y"])

        bwd = median_s(args.repeats, lambda: state["y"].backward(state["g"]), before=make_graph)
        print(f"{name}  fwd {fwd * 1e3:8.2f} ms {flops / fwd / 1e9:6.1f} GFLOP/s"
              f"  bwd {bwd * 1e3:8.2f} ms {2 * flops / bwd / 1e9:6.1f} GFLOP/s", flush=True)


if __name__ == "__main__":
    main()
