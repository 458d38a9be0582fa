#!/usr/bin/python3
"""Writes the PyTorch-checkpoint fixtures (tests/golden/fixtures/ckpt_*).

Run with Debian's python3-torch:  /usr/bin/python3 tests/golden/make_checkpoint_fixtures.py

Writes, each a few KB:
- ckpt_{plain,wrapped,model}_{zip,legacy}.pt: one small state_dict saved by
  torch.save in the zip format and in the legacy format
  (_use_new_zipfile_serialization=False). "plain" is the state_dict itself,
  "wrapped" is {'state_dict': <names prefixed 'module.'>, 'epoch': 3,
  'best_acc': numpy.float64}, "model" is {'model': ..., 'step': 10}.
- ckpt_renamed_zip.pt: saved as 'renamed_inside.pt', so its archive folder
  is 'renamed_inside', not the file's stem.
- ckpt_zip64_zip.pt: the plain zip's entries re-packed by hand with ZIP64
  sizes and offsets in the central directory (torch writes those only past
  4 GiB).
- ckpt_deflate_zip.pt: the same entries DEFLATE-compressed (must be refused).
- ckpt_bad_global_{zip,legacy}.pt: a data pickle calling os.system.
- ckpt_short_storage_{zip,legacy}.pt: a tensor of 3 floats over a storage of 2.
- ckpt_short_record_zip.pt: a storage claiming 4 floats whose record holds 2.
- ckpt_view_legacy.pt: a tensor over a legacy storage view (view metadata in
  the persistent id), and one over the whole storage.
- ckpt_huge_claim_{zip,legacy}.pt: a storage claiming 2**40 floats in a tiny file.
- ckpt_expanded_{zip,legacy}.pt: a stride-0 tensor of 10**6 elements over 2 floats.
- ckpt_expected.json: for each fixture that loads, its format, every
  tensor's name, shape, dtype as loaded and exact values, and phrases its
  notes must contain (the tensors are the shared "state_dict" list unless the
  fixture lists its own); for each that must fail, a phrase of the error.
- ckpt_mtcnn_expected.json: for ../shared/data/mtcnn/{pnet,rnet,onet}.pt (when
  present): every tensor's name, shape, sum, sum of |x| and the weighted sum
  sum(x[i] * (i % 13 + 1)) over the row-major order, in float64.

Regenerating gives identical files: torch is seeded, zip entries carry no
time, and the legacy files' storage keys (memory addresses at save time) are
renumbered in place to same-length zero-padded counters.
"""
import collections
import io
import json
import os
import pickle
import pickletools
import re
import struct
import zipfile
import zlib

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
OUT_DIR = os.path.join(HERE, "fixtures")
MTCNN_DIR = os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared", "data", "mtcnn"))

LOADS_AS = {
    torch.float32: "float32", torch.float64: "float64", torch.float16: "float32", torch.bfloat16: "float32",
    torch.int64: "int64", torch.int32: "int64", torch.int16: "int64", torch.int8: "int64", torch.uint8: "int64",
    torch.bool: "int64",
}


def make_state_dict():
    torch.manual_seed(20240611)
    sd = collections.OrderedDict()
    sd["conv.weight"] = torch.randn(4, 3, 3, 3)
    sd["fc.bias"] = torch.nn.Parameter(torch.randn(5))  # saved through _rebuild_parameter
    sd["bn.running_mean"] = torch.randn(4)
    sd["bn.num_batches_tracked"] = torch.tensor(7, dtype=torch.int64)  # 0-dim
    sd["fc.weight_t"] = torch.randn(3, 5).t()  # shape (5, 3), stride (1, 5): not contiguous
    sd["perm"] = torch.randn(2, 3, 4).permute(2, 0, 1)  # stride (1, 12, 4)
    sd["half"] = torch.randn(6).half()
    sd["bf16"] = torch.randn(5).bfloat16()
    sd["double"] = torch.randn(2, 2, dtype=torch.float64)
    sd["int32"] = torch.tensor([-3, 0, 2147483647], dtype=torch.int32)
    sd["uint8"] = torch.tensor([0, 1, 255], dtype=torch.uint8)
    sd["int8"] = torch.tensor([-128, 5, 127], dtype=torch.int8)
    sd["mask"] = torch.tensor([True, False, True])
    sd["empty"] = torch.zeros(0, 3)
    base = torch.randn(10)  # two tensors over one storage at different offsets
    sd["shared.a"] = base[:4]
    sd["shared.b"] = base[4:].view(2, 3)
    sd["tied"] = sd["conv.weight"]  # the same tensor under a second name
    return sd


def expected_tensors(sd, prefix_strip=""):
    out = []
    for name, t in sd.items():
        t = t.detach()
        values = t.double() if t.is_floating_point() else t.long()
        out.append({"name": name[len(prefix_strip):] if name.startswith(prefix_strip) else name,
                    "shape": list(t.shape), "dtype": LOADS_AS[t.dtype], "values": values.flatten().tolist()})
    return out


class _StorageLister(pickle.Unpickler):
    """Reads a legacy object pickle without building tensors; records each storage key's element size."""

    def __init__(self, f):
        super().__init__(f)
        self.element_size = {}  # key -> bytes per element, in order of first use

    def find_class(self, module, name):
        if module == "torch._utils":
            return lambda *args: None
        return super().find_class(module, name)

    def persistent_load(self, pid):
        self.element_size.setdefault(pid[2], pid[1]().element_size())


def renumber_legacy_keys(data):
    """Renames the storage keys of a legacy file (memory addresses at save time) to zero-padded counters of the
    same length, in order of first use, and lays the storages out in that order."""
    f = io.BytesIO(data)
    for _ in range(3):  # magic, protocol, sys_info
        pickle.load(f)
    main_start = f.tell()
    lister = _StorageLister(f)
    lister.load()
    main_end = f.tell()
    keys = pickle.load(f)
    chunks = {}
    for key in keys:
        (count,) = struct.unpack("<q", f.read(8))
        chunks[key] = struct.pack("<q", count) + f.read(count * lister.element_size[key])
    assert f.read() == b""
    main = data[main_start:main_end]
    renamed = {}
    for i, key in enumerate(lister.element_size):
        renamed[key] = str(i).zfill(len(key))
        main = main.replace(key.encode(), renamed[key].encode())
    order = sorted(lister.element_size, key=lambda k: int(renamed[k]))
    return (data[:main_start] + main + pickle.dumps([renamed[k] for k in order], protocol=2) +
            b"".join(chunks[k] for k in order))


def save(obj, name, legacy, archive_name=None):
    path = os.path.join(OUT_DIR, name)
    if legacy:
        buf = io.BytesIO()
        torch.save(obj, buf, _use_new_zipfile_serialization=False)
        with open(path, "wb") as f:
            f.write(renumber_legacy_keys(buf.getvalue()))
    else:
        # torch names the archive folder after the file's stem.
        stem_path = os.path.join(OUT_DIR, (archive_name or name[:-3]) + ".pt")
        torch.save(obj, stem_path)
        os.replace(stem_path, path)
    assert same(obj, torch.load(path)), name


def same(a, b):
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and a.dtype == b.dtype and a.shape == b.shape and torch.equal(a, b)
    if isinstance(a, dict):
        return isinstance(b, dict) and list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    return type(a) == type(b) and a == b


# ---- hand-made archives and streams

def write_zip(path, entries, zip64=False, deflate=False):
    """entries: list of (name, bytes). Local headers carry the sizes; no data descriptors."""
    out, central = bytearray(), bytearray()
    for name, data in entries:
        name_b = name.encode()
        crc = zlib.crc32(data)
        method, stored = 0, data
        if deflate:
            c = zlib.compressobj(9, zlib.DEFLATED, -15)
            method, stored = 8, c.compress(data) + c.flush()
        offset = len(out)
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0x21, crc, len(stored), len(data),
                           len(name_b), 0) + name_b + stored
        if zip64:
            extra = struct.pack("<HHQQQ", 1, 24, len(data), len(stored), offset)
            sizes = (0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF)
        else:
            extra = b""
            sizes = (len(stored), len(data), offset)
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 45, 45 if zip64 else 20, 0, method, 0, 0x21, crc,
                               sizes[0], sizes[1], len(name_b), len(extra), 0, 0, 0, 0, sizes[2]) + name_b + extra
    cd_offset = len(out)
    out += central
    n = len(entries)
    if zip64:
        end64 = len(out)
        out += struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, n, n, len(central), cd_offset)
        out += struct.pack("<IIQI", 0x07064B50, 0, end64, 1)
        out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    else:
        out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, n, n, len(central), cd_offset, 0)
    with open(path, "wb") as f:
        f.write(bytes(out))


class FakeStorage:
    def __init__(self, key, numel, view=None):
        self.key, self.numel, self.view = key, numel, view  # view: (view_key, offset, size), legacy only


class FakeTensor:
    def __init__(self, storage, offset, size, stride):
        self.args = (storage, offset, size, stride, False, collections.OrderedDict())


class CraftPickler(pickle.Pickler):
    """Pickles FakeTensor/FakeStorage as torch does, with whatever sizes it is given."""

    def persistent_id(self, obj):
        if isinstance(obj, FakeStorage):
            return ("storage", torch.FloatStorage, obj.key, "cpu", obj.numel) + ((obj.view,) if self.legacy else ())
        return None

    def reducer_override(self, obj):
        if isinstance(obj, FakeTensor):
            return torch._utils._rebuild_tensor_v2, obj.args
        return NotImplemented


class System:
    def __reduce__(self):
        return os.system, ("true",)


def craft_pickle(obj, legacy):
    buf = io.BytesIO()
    p = CraftPickler(buf, protocol=2)
    p.legacy = legacy
    p.dump(obj)
    data = buf.getvalue()
    # pickle spells os.system as posix.system on Linux; name it as written in the source.
    return data.replace(b"cposix\nsystem\n", b"cos\nsystem\n")


def write_crafted_zip(name, obj, records):
    prefix = name[:-3]
    entries = [(prefix + "/data.pkl", craft_pickle(obj, legacy=False))]
    entries += [(prefix + "/data/" + k, v) for k, v in records.items()]
    entries.append((prefix + "/version", b"3\n"))
    write_zip(os.path.join(OUT_DIR, name), entries)


def write_crafted_legacy(name, obj, records):
    out = io.BytesIO()
    for header in (0x1950A86A20F9469CFC6C, 1001, {"protocol_version": 1001, "little_endian": True,
                                                  "type_sizes": {"short": 2, "int": 4, "long": 4}}):
        pickle.dump(header, out, protocol=2)
    out.write(craft_pickle(obj, legacy=True))
    pickle.dump(list(records), out, protocol=2)
    for data in records.values():
        out.write(struct.pack("<q", len(data) // 4))
        out.write(data)
    with open(os.path.join(OUT_DIR, name), "wb") as f:
        f.write(out.getvalue())


def json_lines(obj):
    """JSON with one line per list item or dict entry at the second level: compact, and readable in a diff."""
    parts = []
    for key, value in obj.items():
        if isinstance(value, list):
            inner = ",\n  ".join(json.dumps(v, separators=(",", ":")) for v in value)
        else:
            inner = ",\n  ".join(json.dumps(k) + ":" + json.dumps(v, separators=(",", ":"), sort_keys=True)
                                 for k, v in sorted(value.items()))
        brackets = "[]" if isinstance(value, list) else "{}"
        parts.append(f"{json.dumps(key)}:{brackets[0]}\n  {inner}\n {brackets[1]}")
    return "{\n " + ",\n ".join(parts) + "\n}\n"


# ---- mtcnn

def weighted_sum(t):
    x = t.detach().double().flatten()
    w = (torch.arange(x.numel(), dtype=torch.int64) % 13 + 1).double()
    return float((x * w).sum())


def mtcnn_expected():
    out = {}
    for net in ("pnet", "rnet", "onet"):
        path = os.path.join(MTCNN_DIR, net + ".pt")
        sd = torch.load(path, map_location="cpu")
        out[net + ".pt"] = [{"name": k, "shape": list(v.shape), "dtype": str(v.dtype).replace("torch.", ""),
                             "sum": float(v.double().sum()), "sum_abs": float(v.double().abs().sum()),
                             "weighted_sum": weighted_sum(v)} for k, v in sd.items()]
    return out


def main():
    torch.set_num_threads(1)
    os.makedirs(OUT_DIR, exist_ok=True)
    sd = make_state_dict()
    plain = expected_tensors(sd)
    conversions = ["converted float16 to float32", "converted bfloat16 to float32", "converted int32 to int64",
                   "converted uint8 to int64", "converted int8 to int64", "converted bool to int64"]
    expected = {}

    for fmt, legacy in (("zip", False), ("legacy", True)):
        save(sd, f"ckpt_plain_{fmt}.pt", legacy)
        expected[f"ckpt_plain_{fmt}.pt"] = {"format": fmt, "notes": conversions}

        wrapped = {"state_dict": collections.OrderedDict(("module." + k, v) for k, v in sd.items()),
                   "epoch": 3, "best_acc": np.float64(0.875)}
        save(wrapped, f"ckpt_wrapped_{fmt}.pt", legacy)
        expected[f"ckpt_wrapped_{fmt}.pt"] = {
            "format": fmt,
            "notes": conversions + ["entry ['state_dict']", "'epoch'", "'best_acc'", "stripped the 'module.' prefix"]}

        model = {"model": sd, "step": 10}
        save(model, f"ckpt_model_{fmt}.pt", legacy)
        expected[f"ckpt_model_{fmt}.pt"] = {"format": fmt,
                                            "notes": conversions + ["entry ['model']", "'step'"]}

    save(sd, "ckpt_renamed_zip.pt", legacy=False, archive_name="renamed_inside")
    with zipfile.ZipFile(os.path.join(OUT_DIR, "ckpt_renamed_zip.pt")) as z:
        assert all(n.startswith("renamed_inside/") for n in z.namelist()), z.namelist()
    expected["ckpt_renamed_zip.pt"] = {"format": "zip", "notes": conversions}

    with zipfile.ZipFile(os.path.join(OUT_DIR, "ckpt_plain_zip.pt")) as z:
        entries = [(n, z.read(n)) for n in z.namelist()]
    write_zip(os.path.join(OUT_DIR, "ckpt_zip64_zip.pt"), entries, zip64=True)
    assert torch.load(os.path.join(OUT_DIR, "ckpt_zip64_zip.pt")).keys() == sd.keys()
    expected["ckpt_zip64_zip.pt"] = {"format": "zip", "notes": conversions}
    write_zip(os.path.join(OUT_DIR, "ckpt_deflate_zip.pt"), entries, deflate=True)
    expected["ckpt_deflate_zip.pt"] = {"error": "DEFLATE"}

    two = struct.pack("<2f", 1.5, -2.0)
    for fmt, write in (("zip", write_crafted_zip), ("legacy", write_crafted_legacy)):
        write(f"ckpt_bad_global_{fmt}.pt", {"w": System()}, {})
        expected[f"ckpt_bad_global_{fmt}.pt"] = {"error": "'os.system' is not allowed"}
        storage = FakeStorage("0", 2)
        write(f"ckpt_short_storage_{fmt}.pt", {"w": FakeTensor(storage, 0, (3,), (1,))}, {"0": two})
        expected[f"ckpt_short_storage_{fmt}.pt"] = {"error": "reaches past the storage's end"}
        write(f"ckpt_huge_claim_{fmt}.pt", {"w": FakeTensor(FakeStorage("0", 2**40), 0, (2**40,), (1,))}, {"0": two})
        expected[f"ckpt_huge_claim_{fmt}.pt"] = {"error": "claims 1099511627776 float32 elements, more than the file's"}
        write(f"ckpt_expanded_{fmt}.pt", {"w": FakeTensor(FakeStorage("0", 2), 0, (10**6,), (0,))}, {"0": two})
        expected[f"ckpt_expanded_{fmt}.pt"] = {"error": "more elements than its storage"}
    write_crafted_zip("ckpt_short_record_zip.pt", {"w": FakeTensor(FakeStorage("0", 4), 0, (4,), (1,))}, {"0": two})
    expected["ckpt_short_record_zip.pt"] = {"error": "holds 8 bytes, but its storage is 4 float32 elements"}

    # A legacy storage view (torch < 0.4 wrote these): elements 2..4 of a 6-element storage.
    root = [0.5, 1.5, 2.5, 3.5, 4.5, 5.5]
    view = FakeStorage("0", 6, view=("1", 2, 3))
    write_crafted_legacy("ckpt_view_legacy.pt", collections.OrderedDict(
        [("v", FakeTensor(view, 1, (2,), (1,))), ("root", FakeTensor(FakeStorage("0", 6), 0, (6,), (1,)))]),
        {"0": struct.pack("<6f", *root)})
    loaded = torch.load(os.path.join(OUT_DIR, "ckpt_view_legacy.pt"))
    assert loaded["v"].tolist() == root[3:5] and loaded["root"].tolist() == root, loaded
    expected["ckpt_view_legacy.pt"] = {"format": "legacy", "notes": [], "tensors": [
        {"name": "v", "shape": [2], "dtype": "float32", "values": root[3:5]},
        {"name": "root", "shape": [6], "dtype": "float32", "values": root}]}

    with open(os.path.join(OUT_DIR, "ckpt_expected.json"), "w") as f:
        f.write(json_lines({"state_dict": plain, "fixtures": expected}))
    if os.path.isdir(MTCNN_DIR):
        with open(os.path.join(OUT_DIR, "ckpt_mtcnn_expected.json"), "w") as f:
            f.write(json_lines(mtcnn_expected()))
    else:
        print("note: no", MTCNN_DIR, "- ckpt_mtcnn_expected.json left as it is")
    for name in sorted(os.listdir(OUT_DIR)):
        if name.startswith("ckpt_"):
            print(f"{os.path.getsize(os.path.join(OUT_DIR, name)):8d}  {name}")


if __name__ == "__main__":
    main()
