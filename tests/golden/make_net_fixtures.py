#!/usr/bin/python3
"""Writes the golden fixtures of the networks (tests/golden/fixtures/net_*.safetensors).

Run with Debian's python3-torch:  /usr/bin/python3 tests/golden/make_net_fixtures.py

torchvision is not needed (Debian's python3-torch comes without it): VGG16 and
ResNet-18 are written out below in plain torch.nn with torchvision's module
names, so their state_dict keys are torchvision's; the VGG10 Auto-Encoder
follows SPEC.md's Module A and the layout documented in nets/vgg10_autoencoder.h.

Each net is built at a reduced width (the files stay small) and given
weights that keep activations of order one through all layers (kaiming-normal
fan-in weights, small random biases; for ResNet random BatchNorm affine
parameters and running statistics), rounded to float32. Each file holds:

- `config.*`: the construction options as I64 tensors (width as its inverse);
- `state.<name>`: the state_dict (float32; num_batches_tracked int64);
- eval cases: an input `x` (float32) and the outputs computed by PyTorch in
  eval mode, in float64 (`*_f64`, from the same float32-representable weights
  and input, so the C++ side can compare to ~1e-10) and in float32 (`*_f32`);
- one `train` case in float64 in training mode: the input, labels (or target
  vectors), the loss, and `grad.<name>` for a few parameters after backward;
  ResNet also stores running statistics after the step (`after.<name>`).

Regenerating with the same torch gives identical files: each net seeds torch
with the CRC-32 of its name and torch runs on one thread.
"""
import math
import os
import sys
import zlib

import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from make_fixtures import write_safetensors  # noqa: E402

OUT_DIR = os.path.join(HERE, "fixtures")
GENERATOR = "tests/golden/make_net_fixtures.py"
F64 = torch.float64
F32 = torch.float32


def scaled(c, width):
    """The C++ rule: nearest integer (halves away from zero), at least 1."""
    return max(1, int(math.floor(c * width + 0.5)))


# ---------------------------------------------------------------- the nets


class VGG16(nn.Module):
    """torchvision.models.vgg16 (configuration D) with a width multiplier."""

    CFG = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]

    def __init__(self, num_classes, in_channels, width, dropout, batch_norm=False):
        super().__init__()
        layers, c = [], in_channels
        for v in self.CFG:
            if v == "M":
                layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            else:
                out = scaled(v, width)
                layers.append(nn.Conv2d(c, out, kernel_size=3, padding=1))
                if batch_norm:  # torchvision's vgg16_bn
                    layers.append(nn.BatchNorm2d(out))
                layers.append(nn.ReLU(inplace=True))
                c = out
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        hidden = scaled(4096, width)
        self.classifier = nn.Sequential(
            nn.Linear(c * 7 * 7, hidden), nn.ReLU(True), nn.Dropout(p=dropout),
            nn.Linear(hidden, hidden), nn.ReLU(True), nn.Dropout(p=dropout),
            nn.Linear(hidden, num_classes))

    def forward_with_feature(self, x):
        x = torch.flatten(self.avgpool(self.features(x)), 1)
        feature = self.classifier[1](self.classifier[0](x))
        return self.classifier[2:](feature), feature


class BasicBlock(nn.Module):
    def __init__(self, inplanes, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or inplanes != planes:
            self.downsample = nn.Sequential(nn.Conv2d(inplanes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity)


class ResNet18(nn.Module):
    """torchvision.models.resnet18 with a width multiplier and the stems of nets/resnet18.h:
    imagenet (7x7/2 + max-pool), small (3x3/1 + max-pool), cifar (3x3/1, no max-pool)."""

    def __init__(self, num_classes, in_channels, width, stem="imagenet"):
        super().__init__()
        c = scaled(64, width)
        if stem == "imagenet":
            self.conv1 = nn.Conv2d(in_channels, c, 7, 2, 3, bias=False)
        else:
            self.conv1 = nn.Conv2d(in_channels, c, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1) if stem != "cifar" else nn.Identity()
        for i in range(4):
            out = scaled(64 << i, width)
            stride = 1 if i == 0 else 2
            setattr(self, f"layer{i + 1}", nn.Sequential(BasicBlock(c, out, stride), BasicBlock(out, out, 1)))
            c = out
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(c, num_classes)

    def forward_with_feature(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        feature = torch.flatten(self.avgpool(x), 1)
        return self.fc(feature), feature


VGG_A = [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"]


class VGG10Encoder(nn.Module):
    def __init__(self, side, in_channels, code_dim, hidden, width):
        super().__init__()
        layers, c, s = [], in_channels, side
        for v in VGG_A:
            if v == "M":
                layers.append(nn.MaxPool2d(2, 2))
                s //= 2
            else:
                out = scaled(v, width)
                layers += [nn.Conv2d(c, out, 3, padding=1), nn.ReLU()]
                c = out
        self.features = nn.Sequential(*layers)
        self.fc1 = nn.Linear(c * s * s, hidden)
        self.fc2 = nn.Linear(hidden, code_dim)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(torch.flatten(self.features(x), 1))))


class VGG10Decoder(nn.Module):
    def __init__(self, side, in_channels, code_dim, hidden, width):
        super().__init__()
        sides, s, widths = [], side, []
        for v in VGG_A:
            if v == "M":
                sides.append(s)
                s //= 2
            else:
                widths.append(scaled(v, width))
        self.top = (widths[-1], s)
        self.fc1 = nn.Linear(code_dim, hidden)
        self.fc2 = nn.Linear(hidden, widths[-1] * s * s)
        in_widths = [in_channels] + widths[:-1]
        layers, k = [], len(widths) - 1
        for v in reversed(VGG_A):
            if v == "M":
                size = sides.pop()
                layers.append(nn.Upsample(size=(size, size), mode="nearest"))
            else:
                layers.append(nn.Conv2d(widths[k], in_widths[k], 3, padding=1))
                if k > 0:
                    layers.append(nn.ReLU())
                k -= 1
        self.features = nn.Sequential(*layers)

    def forward(self, code):
        h = F.relu(self.fc2(F.relu(self.fc1(code))))
        c, s = self.top
        return self.features(h.reshape(code.shape[0], c, s, s))


class VGG10AutoEncoder(nn.Module):
    def __init__(self, **options):
        super().__init__()
        self.encoder = VGG10Encoder(**options)
        self.decoder = VGG10Decoder(**options)

    def forward_with_code(self, x):
        code = self.encoder(x)
        return code, self.decoder(code)


# ---------------------------------------------------------------- helpers


def order_one_weights(net):
    """Weights that keep activations of order one; biases and BN state non-trivial; float32-exact."""
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                fan_in = m.weight[0].numel()
                m.weight.normal_(0.0, math.sqrt(2.0 / fan_in))
                if m.bias is not None:
                    m.bias.uniform_(-0.2, 0.2)
            elif isinstance(m, nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0.0, 0.2)
                m.running_mean.normal_(0.0, 0.3)
                m.running_var.uniform_(0.5, 2.0)
                m.num_batches_tracked.fill_(7)
    net.float()


class Writer:
    def __init__(self, net_name):
        torch.manual_seed(zlib.crc32(net_name.encode()))
        self.name = net_name
        self.named = []
        self.cases = []

    def config(self, **values):
        for key, v in values.items():
            self.named.append((f"config.{key}", torch.tensor([v], dtype=torch.int64)))

    def state(self, net):
        for key, t in net.state_dict().items():
            self.named.append((f"state.{key}", t.detach().clone()))

    def put(self, case, **tensors):
        if case not in self.cases:
            self.cases.append(case)
        for key, t in tensors.items():
            self.named.append((f"{case}.{key}", t.detach().clone()))

    def grads(self, case, net, names):
        params = dict(net.named_parameters())
        for name in names:
            self.named.append((f"{case}.grad.{name}", params[name].grad.detach().clone()))

    def write(self):
        path = os.path.join(OUT_DIR, f"net_{self.name}.safetensors")
        meta = {"torch_version": torch.__version__, "generator": GENERATOR, "op": f"net_{self.name}",
                "cases": ",".join(self.cases)}
        write_safetensors(path, self.named, meta)
        print(f"{os.path.relpath(path, os.path.dirname(os.path.dirname(HERE)))}: "
              f"{len(self.cases)} cases, {os.path.getsize(path)} bytes")


def eval_in_both_dtypes(net, x, run):
    """The eval-mode outputs of `run(net, x)` in float64 and float32 (the net is left in float32)."""
    net.eval()
    with torch.no_grad():
        out64 = run(net.double(), x.double())
        out32 = run(net.float(), x)
    return out64, out32


# ---------------------------------------------------------------- the fixtures


def vgg16():
    w = Writer("vgg16")
    inverse_width, classes, in_channels = 32, 7, 1  # grey, as FERPlus (ResNet covers 3 channels)
    net = VGG16(classes, in_channels, 1.0 / inverse_width, dropout=0.5)
    order_one_weights(net)
    w.config(num_classes=classes, in_channels=in_channels, width_inverse=inverse_width)
    w.state(net)
    run = lambda n, x: n.forward_with_feature(x)  # noqa: E731
    # 48x48: the map before avgpool is 1x1 and gets replicated to 7x7;
    # 64x96: 2x3 spread over 7x7 with overlapping bins.
    for case, shape in [("eval48", (2, in_channels, 48, 48)), ("eval64x96", (1, in_channels, 64, 96))]:
        x = torch.randn(*shape, dtype=F32)
        (l64, f64), (l32, f32) = eval_in_both_dtypes(net, x, run)
        w.put(case, x=x, logits_f64=l64, feature_f64=f64, logits_f32=l32, feature_f32=f32)
    # Training mode in float64, dropout off (p = 0: its mask cannot be reproduced across libraries).
    train = VGG16(classes, in_channels, 1.0 / inverse_width, dropout=0.0)
    train.load_state_dict(net.state_dict())
    train.double().train()
    x = torch.randn(3, in_channels, 40, 40, dtype=F32)
    labels = torch.tensor([2, 6, 0])
    logits, feature = train.forward_with_feature(x.double())
    loss = F.cross_entropy(logits, labels)
    loss.backward()
    w.put("train", x=x, labels=labels, logits=logits, feature=feature, loss=loss)
    w.grads("train", train, ["features.0.weight", "features.0.bias", "features.28.weight", "features.28.bias",
                             "classifier.0.bias", "classifier.3.bias", "classifier.6.weight", "classifier.6.bias"])
    w.write()


def resnet18():
    w = Writer("resnet18")
    inverse_width, classes, in_channels = 16, 7, 3
    net = ResNet18(classes, in_channels, 1.0 / inverse_width)
    order_one_weights(net)
    w.config(num_classes=classes, in_channels=in_channels, width_inverse=inverse_width)
    w.state(net)
    run = lambda n, x: n.forward_with_feature(x)  # noqa: E731
    for case, shape in [("eval40", (2, in_channels, 40, 40)), ("eval64x48", (1, in_channels, 64, 48))]:
        x = torch.randn(*shape, dtype=F32)
        (l64, f64), (l32, f32) = eval_in_both_dtypes(net, x, run)
        w.put(case, x=x, logits_f64=l64, feature_f64=f64, logits_f32=l32, feature_f32=f32)
    # Training mode in float64: batch statistics, running statistics updated.
    net.double().train()
    x = torch.randn(3, in_channels, 40, 40, dtype=F32)
    labels = torch.tensor([1, 3, 5])
    logits, feature = net.forward_with_feature(x.double())
    loss = F.cross_entropy(logits, labels)
    loss.backward()
    w.put("train", x=x, labels=labels, logits=logits, feature=feature, loss=loss)
    w.grads("train", net, ["conv1.weight", "bn1.weight", "bn1.bias", "layer1.0.conv2.weight",
                           "layer2.0.downsample.0.weight", "layer3.1.bn2.weight", "layer4.1.bn2.bias",
                           "fc.weight", "fc.bias"])
    state = net.state_dict()
    for name in ["bn1.running_mean", "bn1.running_var", "bn1.num_batches_tracked",
                 "layer3.0.downsample.1.running_mean", "layer3.0.downsample.1.running_var",
                 "layer4.1.bn2.running_mean", "layer4.1.bn2.running_var"]:
        w.put("train", **{f"after.{name}": state[name]})
    w.write()


def eval48_case(w, net, classes, in_channels, inverse_width):
    """Config, state and the "eval48" case: one [2, C, 48, 48] input in eval mode, float64 and float32."""
    w.config(num_classes=classes, in_channels=in_channels, width_inverse=inverse_width)
    w.state(net)
    x = torch.randn(2, in_channels, 48, 48, dtype=F32)
    (l64, f64), (l32, f32) = eval_in_both_dtypes(net, x, lambda n, x: n.forward_with_feature(x))
    w.put("eval48", x=x, logits_f64=l64, feature_f64=f64, logits_f32=l32, feature_f32=f32)


def train_case(w, net, x, labels, grads, after):
    """The "train" case: one float64 training-mode step with cross-entropy, its gradients and the state after."""
    net.double().train()
    logits, feature = net.forward_with_feature(x.double())
    loss = F.cross_entropy(logits, labels)
    loss.backward()
    w.put("train", x=x, labels=labels, logits=logits, feature=feature, loss=loss)
    w.grads("train", net, grads)
    state = net.state_dict()
    for name in after:
        w.put("train", **{f"after.{name}": state[name]})


def vgg16_bn():
    w = Writer("vgg16_bn")
    inverse_width, classes, in_channels = 32, 7, 1
    net = VGG16(classes, in_channels, 1.0 / inverse_width, dropout=0.5, batch_norm=True)
    try:  # the layout must be torchvision's own, name for name and in order
        import torchvision
        reference = torchvision.models.vgg16_bn(num_classes=classes)
        assert [k for k in reference.state_dict()][2:] == [k for k in net.state_dict()][2:], "not vgg16_bn's layout"
    except ImportError:
        print("torchvision not installed: vgg16_bn's layout not compared with torchvision's")
    order_one_weights(net)
    eval48_case(w, net, classes, in_channels, inverse_width)
    train = VGG16(classes, in_channels, 1.0 / inverse_width, dropout=0.0, batch_norm=True)
    train.load_state_dict(net.state_dict())
    train_case(w, train, torch.randn(3, in_channels, 40, 40, dtype=F32), torch.tensor([2, 6, 0]),
               ["features.0.weight", "features.1.weight", "features.1.bias", "features.40.weight",
                "features.41.weight", "classifier.0.bias", "classifier.6.weight"],
               ["features.1.running_mean", "features.1.running_var", "features.41.running_mean",
                "features.41.running_var", "features.41.num_batches_tracked"])
    w.write()


def resnet18_stem(stem):
    w = Writer(f"resnet18_{stem}")
    inverse_width, classes, in_channels = 16, 7, 1
    net = ResNet18(classes, in_channels, 1.0 / inverse_width, stem)
    order_one_weights(net)
    eval48_case(w, net, classes, in_channels, inverse_width)
    train_case(w, net, torch.randn(2, in_channels, 24, 24, dtype=F32), torch.tensor([4, 0]),
               ["conv1.weight", "bn1.weight", "layer1.0.conv1.weight", "layer2.0.downsample.0.weight",
                "layer4.1.bn2.bias", "fc.weight"],
               ["bn1.running_mean", "bn1.running_var", "layer1.0.bn1.running_mean"])
    w.write()


def vgg10_autoencoder():
    w = Writer("vgg10_autoencoder")
    # An odd side: pools 50 -> 25 -> 12 -> 6 -> 3 -> 1, up-sampling 1 -> 3 -> 6 -> 12 -> 25 -> 50.
    options = dict(side=50, in_channels=1, code_dim=12, hidden=32)
    inverse_width = 32
    net = VGG10AutoEncoder(**options, width=1.0 / inverse_width)
    order_one_weights(net)
    w.config(**options, width_inverse=inverse_width)
    w.state(net)
    x = torch.randn(2, 1, 50, 50, dtype=F32)
    run = lambda n, x: n.forward_with_code(x)  # noqa: E731
    (c64, r64), (c32, r32) = eval_in_both_dtypes(net, x, run)
    w.put("eval50", x=x, code_f64=c64, reconstruction_f64=r64, code_f32=c32, reconstruction_f32=r32)
    # SPEC Eq. 1 in float64: mean_i [ mse(x_i, x^_i) + gamma (1 - cos(v_{y_i}, g(x_i))) ], gamma = 1.
    net.double().train()
    x = torch.randn(2, 1, 50, 50, dtype=F32)
    targets = torch.randn(2, options["code_dim"], dtype=F64)  # the word vectors v_{y_i}
    code, reconstruction = net.forward_with_code(x.double())
    loss = F.mse_loss(reconstruction, x.double()) + (1 - F.cosine_similarity(targets, code, dim=1)).mean()
    loss.backward()
    w.put("train", x=x, targets=targets, code=code, loss=loss)
    w.grads("train", net, ["encoder.features.0.weight", "encoder.features.18.bias", "encoder.fc1.bias",
                           "encoder.fc2.weight", "encoder.fc2.bias", "decoder.fc1.weight", "decoder.fc2.bias",
                           "decoder.features.1.weight", "decoder.features.19.weight", "decoder.features.19.bias"])
    w.write()


def main():
    torch.set_num_threads(1)  # one summation order, whatever the machine
    os.makedirs(OUT_DIR, exist_ok=True)
    vgg16()
    resnet18()
    vgg10_autoencoder()
    vgg16_bn()
    resnet18_stem("small")
    resnet18_stem("cifar")


if __name__ == "__main__":
    main()
