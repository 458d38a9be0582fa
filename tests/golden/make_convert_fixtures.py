#!/usr/bin/python3
"""Writes the fixtures of weight conversion and of the .npy reader (tests/golden/fixtures/convert_*).

Run with Debian's python3-torch:  /usr/bin/python3 tests/golden/make_convert_fixtures.py
(torchvision is not needed: the networks are written here in plain torch.nn with torchvision's module names.)

Checkpoints: four published layouts at reduced widths, each saved four ways, in the zip format and the legacy
one (_use_new_zipfile_serialization=False), as the bare state_dict ("plain") and as
{'state_dict': <names prefixed 'module.'>, 'epoch': 3, 'arch': ...} ("wrapped", nn.DataParallel + a training
script's checkpoint):
- convert_vgg16_tv_*.pth     torchvision vgg16 (features.N, classifier.N), width 1/64, 7 classes.
- convert_vggface_*.pth      VGG-Face in Albanie's vgg_face_dag naming (conv1_1 .. conv5_3, fc6, fc7, fc8),
                             width 1/128, a 2,622-way fc8 (to be dropped). In the wrapped files fc6, fc7 and
                             fc8 are stored conv-shaped ([out, C, 7, 7] and [out, in, 1, 1]).
- convert_resnet18_tv_*.pth  torchvision resnet18 (conv1, bn1, layer1..4, fc), width 1/32, 7 classes.
- convert_vgg16_bn_tv_*.pth  torchvision vgg16_bn (a BatchNorm2d after each convolution), width 1/64, 7 classes.
- convert_dream_*.pth        DREAM's ResNet-18 (ijba_res18_naive): the same backbone, width 1/32, plus
                             `feature` (Linear 16 -> 8, 512 -> 256 at full width) and `fc` (8 -> 100).
convert_input.npy is one input [2, 3, 64, 48]; convert_<case>_{logits,feature}.npy are PyTorch's outputs in
eval mode: logits for the two 7-class cases, and for all four the feature our networks expose (VGG16: fc6
after its ReLU; ResNet-18: the pooled 512-d vector, before DREAM's `feature` layer). Albanie's VGG-Face has no
adaptive pool (it takes 224x224 inputs, where pool5 is already 7x7); the reference here inserts torchvision's
AdaptiveAvgPool2d(7), which is the identity at 224.

Every parameter and batch-norm statistic is randomised (biases and running means too), so no layer is the
identity or dead. Regenerating gives identical files: torch is seeded, zip entries carry no time, and the
legacy files' storage keys (memory addresses at save time) are renamed to counters.

NumPy fixtures for tests/io/test_npy.cpp, written by numpy itself (values are formulas of the index i):
convert_numpy_f4.npy ((i * 0.37 - 3) as float32, [2, 3, 4]), convert_numpy_f8{,_v2,_v3}.npy (i / 7 - 1e10,
[5, 1], format versions 1.0, 2.0, 3.0), convert_numpy_i8.npy (i * 1000000007 * 1000 - 5000000000, [4]),
convert_numpy_u1.npy (i * 23 % 256 as uint8, [1, 3, 2, 2]), convert_numpy_i4.npy (i * -123456789 as int32,
[6]), convert_numpy_scalar.npy (3.5, shape ()), convert_numpy_empty.npy (float32 [0, 3]),
convert_numpy_fortran.npy (a Fortran-ordered array, to be refused).
"""
import io
import math
import os
import pickle
import struct

import numpy as np
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
OUT_DIR = os.path.join(HERE, "fixtures")

VGG_D = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]
VGGFACE_CONVS = ["conv1_1", "conv1_2", "conv2_1", "conv2_2", "conv3_1", "conv3_2", "conv3_3",
                 "conv4_1", "conv4_2", "conv4_3", "conv5_1", "conv5_2", "conv5_3"]


def scaled(channels, width):
    """Our width rule: round half away from zero (C++ llround), at least 1."""
    return max(1, int(math.floor(channels * width + 0.5)))


# ---------------------------------------------------------------- networks


class VGG16(nn.Module):
    """torchvision's vgg16 (vgg16_bn with batch_norm) at a width multiplier."""

    def __init__(self, width, num_classes, batch_norm=False):
        super().__init__()
        layers, c = [], 3
        for v in VGG_D:
            if v == "M":
                layers.append(nn.MaxPool2d(2, 2))
            else:
                out = scaled(v, width)
                layers.append(nn.Conv2d(c, out, 3, padding=1))
                if batch_norm:
                    layers.append(nn.BatchNorm2d(out))
                layers.append(nn.ReLU(inplace=True))
                c = out
        hidden = scaled(4096, width)
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(c * 49, hidden), nn.ReLU(True), nn.Dropout(),
            nn.Linear(hidden, hidden), nn.ReLU(True), nn.Dropout(),
            nn.Linear(hidden, num_classes))

    def forward(self, x):
        x = torch.flatten(self.avgpool(self.features(x)), 1)
        feature = self.classifier[1](self.classifier[0](x))
        return self.classifier[6](self.classifier[4](self.classifier[3](feature))), feature


class VGGFaceDag(nn.Module):
    """Albanie's vgg_face_dag names (conv1_1 ... fc8) at a width multiplier; fc layers as Linear."""

    def __init__(self, width, num_classes=2622):
        super().__init__()
        c, i = 3, 0
        self.order = []
        for v in VGG_D:
            if v == "M":
                self.order.append("M")
                continue
            out = scaled(v, width)
            setattr(self, VGGFACE_CONVS[i], nn.Conv2d(c, out, 3, padding=1))
            self.order.append(VGGFACE_CONVS[i])
            c, i = out, i + 1
        hidden = scaled(4096, width)
        self.fc6 = nn.Linear(c * 49, hidden)
        self.fc7 = nn.Linear(hidden, hidden)
        self.fc8 = nn.Linear(hidden, num_classes)

    def forward(self, x):
        for name in self.order:
            x = nn.functional.max_pool2d(x, 2, 2) if name == "M" else torch.relu(getattr(self, name)(x))
        x = torch.flatten(nn.functional.adaptive_avg_pool2d(x, (7, 7)), 1)
        feature = torch.relu(self.fc6(x))
        return self.fc8(torch.relu(self.fc7(feature))), feature


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
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(out)) + identity)


class ResNet18(nn.Module):
    """torchvision's resnet18 at a width multiplier; dream=True adds DREAM's `feature` layer below `fc`."""

    def __init__(self, width, num_classes, dream=False):
        super().__init__()
        widths = [scaled(w, width) for w in (64, 128, 256, 512)]
        self.conv1 = nn.Conv2d(3, widths[0], 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        c = widths[0]
        for i, w in enumerate(widths):
            stride = 1 if i == 0 else 2
            setattr(self, "layer%d" % (i + 1), nn.Sequential(BasicBlock(c, w, stride), BasicBlock(w, w, 1)))
            c = w
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.dream = dream
        if dream:
            self.feature = nn.Linear(c, scaled(256, width))
            self.fc = nn.Linear(scaled(256, width), num_classes)
        else:
            self.fc = nn.Linear(c, num_classes)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        pooled = torch.flatten(self.avgpool(x), 1)
        return self.fc(self.feature(pooled) if self.dream else pooled), pooled


def randomise(model, generator):
    """Every parameter and statistic drawn afresh: weights at a scale that keeps activations O(1), biases
    mostly positive (so thin ReLU layers stay alive), batch-norm statistics away from 0 and 1."""
    with torch.no_grad():
        for name, module in model.named_modules():
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                fan_in = module.weight[0].numel()
                module.weight.normal_(0.0, math.sqrt(2.0 / fan_in), generator=generator)
                if module.bias is not None:
                    module.bias.uniform_(-0.05, 0.2, generator=generator)
            elif isinstance(module, nn.BatchNorm2d):
                module.weight.uniform_(0.5, 1.5, generator=generator)
                module.bias.uniform_(-0.1, 0.3, generator=generator)
                module.running_mean.uniform_(-0.3, 0.3, generator=generator)
                module.running_var.uniform_(0.5, 2.0, generator=generator)
                module.num_batches_tracked.fill_(7)
    return model.eval()


# ---------------------------------------------------------------- saving


class _StorageSizes(pickle.Unpickler):
    """Reads a legacy object pickle without building tensors; records each storage key's element size."""

    def __init__(self, f):
        super().__init__(f)
        self.element_size = {}

    def find_class(self, module, name):
        if module == "torch._utils":
            return lambda *args: None
        return super().find_class(module, name)

    def persistent_load(self, pid):
        self.element_size.setdefault(pid[2], pid[1]().element_size())


def deterministic_legacy(data):
    """The legacy file with its storage keys (memory addresses) renamed to counters "0", "1", ... in order of
    first use, and the storages laid out in that order."""
    f = io.BytesIO(data)
    for _ in range(3):  # magic, protocol version, sys_info
        pickle.load(f)
    start = f.tell()
    sizes = _StorageSizes(f)
    sizes.load()
    end = f.tell()
    keys = pickle.load(f)
    records = {}
    for key in keys:
        (count,) = struct.unpack("<q", f.read(8))
        records[key] = struct.pack("<q", count) + f.read(count * sizes.element_size[key])
    assert f.read() == b""
    # Each key is a BINUNICODE string (b'X', a 4-byte length, the bytes); pickles hold no absolute offsets,
    # so one may be swapped for a string of another length. (Addresses vary in length between runs.)
    body, renamed = data[start:end], {}
    for i, key in enumerate(sizes.element_size):
        renamed[key] = str(i)
        pickled = b"X" + struct.pack("<I", len(key)) + key.encode()
        assert body.count(pickled) >= 1, key
        body = body.replace(pickled, b"X" + struct.pack("<I", len(renamed[key])) + renamed[key].encode())
    order = list(sizes.element_size)
    return data[:start] + body + pickle.dumps([renamed[k] for k in order], protocol=2) + b"".join(
        records[k] for k in order)


def save_checkpoint(obj, name, legacy):
    path = os.path.join(OUT_DIR, name)
    if legacy:
        buf = io.BytesIO()
        torch.save(obj, buf, _use_new_zipfile_serialization=False)
        with open(path, "wb") as f:
            f.write(deterministic_legacy(buf.getvalue()))
    else:
        torch.save(obj, path)
    back = torch.load(path)
    sd, sd_back = (obj["state_dict"], back["state_dict"]) if "state_dict" in obj else (obj, back)
    assert list(sd) == list(sd_back) and all(torch.equal(sd[k], sd_back[k]) for k in sd), name


def save_variants(case, state_dict, arch, conv_shaped=None):
    """The four files of one case; conv_shaped(state_dict) gives the wrapped files' tensors when set."""
    wrapped_sd = conv_shaped(state_dict) if conv_shaped else state_dict
    wrapped = {"state_dict": {"module." + k: v for k, v in wrapped_sd.items()}, "epoch": 3, "arch": arch}
    for legacy in (False, True):
        fmt = "legacy" if legacy else "zip"
        save_checkpoint(state_dict, "convert_%s_plain_%s.pth" % (case, fmt), legacy)
        save_checkpoint(wrapped, "convert_%s_wrapped_%s.pth" % (case, fmt), legacy)


def vggface_conv_shaped(sd):
    """fc6/fc7/fc8 as the convolutions Caffe's VGG-Face used: [out, C, 7, 7] and [out, in, 1, 1]."""
    out = dict(sd)
    c = sd["conv5_3.weight"].shape[0]
    out["fc6.weight"] = sd["fc6.weight"].reshape(-1, c, 7, 7).clone()
    out["fc7.weight"] = sd["fc7.weight"].reshape(*sd["fc7.weight"].shape, 1, 1).clone()
    out["fc8.weight"] = sd["fc8.weight"].reshape(*sd["fc8.weight"].shape, 1, 1).clone()
    return out


def save_npy(name, array):
    np.save(os.path.join(OUT_DIR, name), array, allow_pickle=False)


def make_checkpoints():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(20240611)
    x = torch.randn(2, 3, 64, 48, generator=g)
    save_npy("convert_input.npy", x.numpy())
    cases = [
        ("vgg16_tv", VGG16(1 / 64, 7), "vgg16", None, True),
        ("vggface", VGGFaceDag(1 / 128, 2622), "vgg_face_dag", vggface_conv_shaped, False),
        ("resnet18_tv", ResNet18(1 / 32, 7), "resnet18", None, True),
        ("dream", ResNet18(1 / 32, 100, dream=True), "resnet18", None, False),
        ("vgg16_bn_tv", VGG16(1 / 64, 7, batch_norm=True), "vgg16_bn", None, True),  # last: the others keep their draws
    ]
    for case, model, arch, conv_shaped, has_logits in cases:
        randomise(model, g)
        with torch.no_grad():
            logits, feature = model(x)
        assert (feature > 0).float().mean() > 0.3, (case, "the feature is mostly dead")
        save_variants(case, model.state_dict(), arch, conv_shaped)
        save_npy("convert_%s_feature.npy" % case, feature.numpy())
        if has_logits:
            save_npy("convert_%s_logits.npy" % case, logits.numpy())


def make_npy():
    i24 = np.arange(24)
    save_npy("convert_numpy_f4.npy", (i24 * 0.37 - 3.0).astype(np.float32).reshape(2, 3, 4))
    f8 = (np.arange(5) / 7.0 - 1e10).reshape(5, 1)
    save_npy("convert_numpy_f8.npy", f8)
    for version in ((2, 0), (3, 0)):
        with open(os.path.join(OUT_DIR, "convert_numpy_f8_v%d.npy" % version[0]), "wb") as f:
            np.lib.format.write_array(f, f8, version=version)
    save_npy("convert_numpy_i8.npy", np.arange(4, dtype=np.int64) * 1000000007 * 1000 - 5000000000)
    save_npy("convert_numpy_u1.npy", (np.arange(12) * 23 % 256).astype(np.uint8).reshape(1, 3, 2, 2))
    save_npy("convert_numpy_i4.npy", (np.arange(6) * -123456789).astype(np.int32))
    save_npy("convert_numpy_scalar.npy", np.array(3.5))
    save_npy("convert_numpy_empty.npy", np.zeros((0, 3), np.float32))
    save_npy("convert_numpy_fortran.npy", np.asfortranarray(np.arange(6, dtype=np.float32).reshape(2, 3)))


def main():
    torch.set_num_threads(1)
    os.makedirs(OUT_DIR, exist_ok=True)
    make_npy()
    make_checkpoints()


if __name__ == "__main__":
    main()
