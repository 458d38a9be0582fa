#include "engine/io/torch_checkpoint.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <map>
#include <memory>
#include <unordered_map>

#include "engine/io/half.h"
#include "engine/error.h"
#include "engine/io/pickle.h"
#include "engine/io/zip_reader.h"

namespace sceald::io {

static_assert(std::endian::native == std::endian::little,
              "checkpoint storages are little-endian; this reader copies them as they are");

namespace {

using pickle::Unpickler;
using pickle::Value;
using Kind = Value::Kind;

template <typename... Args>
[[noreturn]] void fail(const std::string& source, const Args&... args) {
  throw Error(str_cat("torch checkpoint '", source, "': ", args...));
}

// ---------------------------------------------------------------- storage types

enum class Elem { F32, F64, F16, BF16, I64, I32, I16, I8, U8, Bool };

struct StorageType {
  const char* name;  // torch.<name>
  Elem elem;
  std::size_t size;  // bytes per element
  DType loads_as;
  const char* dtype;  // torch's name of the element type, for notes
};

constexpr StorageType kStorageTypes[] = {
    {"FloatStorage", Elem::F32, 4, DType::Float32, "float32"},
    {"DoubleStorage", Elem::F64, 8, DType::Float64, "float64"},
    {"HalfStorage", Elem::F16, 2, DType::Float32, "float16"},
    {"BFloat16Storage", Elem::BF16, 2, DType::Float32, "bfloat16"},
    {"LongStorage", Elem::I64, 8, DType::Int64, "int64"},
    {"IntStorage", Elem::I32, 4, DType::Int64, "int32"},
    {"ShortStorage", Elem::I16, 2, DType::Int64, "int16"},
    {"CharStorage", Elem::I8, 1, DType::Int64, "int8"},
    {"ByteStorage", Elem::U8, 1, DType::Int64, "uint8"},
    {"BoolStorage", Elem::Bool, 1, DType::Int64, "bool"},
};

const StorageType* find_storage_type(std::string_view name) {
  for (const StorageType& t : kStorageTypes)
    if (name == t.name) return &t;
  return nullptr;
}


template <typename T>
T load_as(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

// ---------------------------------------------------------------- what the pickle names

struct StorageRef {
  std::string key;
  const StorageType* type = nullptr;
  std::uint64_t numel = 0;        // elements, as the persistent id claims
  std::size_t root = 0;           // the storage holding the bytes: itself, or for a legacy view its base
  std::uint64_t view_offset = 0;  // elements into the root (legacy views)
  bool located = false;
  std::string_view bytes;         // numel * type->size bytes, once located
};

struct TensorSpec {
  std::size_t storage = 0;
  std::int64_t offset = 0;
  Shape size, stride;
};

bool allowed_global(const std::string& module, const std::string& name) {
  if (module == "collections") return name == "OrderedDict";
  if (module == "torch._utils") return name == "_rebuild_tensor_v2" || name == "_rebuild_parameter";
  // Storage types are only named, never called; unknown ones fail later with their name.
  if (module == "torch") return name.size() > 7 && name.ends_with("Storage");
  if (module == "numpy.core.multiarray" || module == "numpy._core.multiarray") return name == "scalar";
  if (module == "numpy") return name == "dtype";
  if (module == "_codecs") return name == "encode";  // protocol 2 spells bytes as _codecs.encode(str, 'latin1')
  return false;
}

// The unpickler hooks of one checkpoint, and the storages and tensors they
// collect. Tensors are only described here; their bytes are read once the
// whole file has been checked.
class Collector {
 public:
  Collector(std::string source, std::uint64_t file_size) : source_(std::move(source)), file_size_(file_size) {}

  pickle::UnpickleHooks hooks() {
    pickle::UnpickleHooks h;
    h.allow_global = allowed_global;
    h.refused_global_hint =
        "a file made by torch.save(model) or holding other Python objects needs Python to load: save "
        "model.state_dict() instead";
    h.call = [this](Unpickler& u, const Value& f, const Value& args) { return call(u, f, args); };
    h.persistent_load = [this](Unpickler& u, const Value& pid) { return persistent_load(u, pid); };
    h.build = [this](Unpickler& u, Value& obj, const Value& state) { build(u, obj, state); };
    return h;
  }

  std::vector<StorageRef> storages;
  std::unordered_map<std::string, std::size_t> by_key;
  std::vector<TensorSpec> tensors;
  std::vector<std::string> devices;  // locations other than "cpu", each once

 private:
  Value* call(Unpickler& u, const Value& f, const Value& args) {
    const std::string fn = f.text + "." + f.name;
    const std::vector<Value*>& a = args.items;
    if (fn == "collections.OrderedDict") {
      if (!a.empty()) u.fail("OrderedDict(...) with arguments is not supported (torch writes OrderedDict())");
      return u.make(Kind::Dict);
    }
    if (fn == "torch._utils._rebuild_tensor_v2") return rebuild_tensor(u, a);
    if (fn == "torch._utils._rebuild_parameter") {
      if (a.size() < 1 || !is_tensor(*a[0])) u.fail("_rebuild_parameter expects a tensor as its first argument");
      return a[0];
    }
    if (fn == "numpy.dtype") {
      if (a.empty() || !a[0]->is(Kind::String)) u.fail("numpy.dtype expects a type string such as 'f8'");
      Value* v = u.make(Kind::Opaque);
      v->text = "numpy dtype";
      v->name = a[0]->text;
      return v;
    }
    if (f.name == "scalar") return numpy_scalar(u, a);
    if (fn == "_codecs.encode") return latin1_bytes(u, a);
    u.fail(str_cat("calling '", fn, "' is not supported"));
  }

  static bool is_tensor(const Value& v) { return v.is(Kind::Opaque) && v.text == "tensor"; }

  static bool non_negative_ints(const Value& tuple) {
    if (!tuple.is(Kind::Tuple)) return false;
    for (const Value* v : tuple.items)
      if (!v->is(Kind::Int) || v->integer < 0) return false;
    return true;
  }

  // _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
  Value* rebuild_tensor(Unpickler& u, const std::vector<Value*>& a) {
    if (a.size() != 6 && a.size() != 7)
      u.fail(str_cat("_rebuild_tensor_v2 expects 6 or 7 arguments, got ", a.size()));
    if (!a[0]->is(Kind::Opaque) || a[0]->text != "storage")
      u.fail(str_cat("_rebuild_tensor_v2 expects a storage first, got ", pickle::describe(*a[0])));
    if (!a[1]->is(Kind::Int) || a[1]->integer < 0)
      u.fail(str_cat("_rebuild_tensor_v2: the storage offset is ", pickle::describe(*a[1])));
    if (!non_negative_ints(*a[2]) || !non_negative_ints(*a[3]) || a[2]->items.size() != a[3]->items.size())
      u.fail(str_cat("_rebuild_tensor_v2: size and stride must be tuples of non-negative ints of one length, got ",
                     pickle::describe(*a[2]), " and ", pickle::describe(*a[3])));
    TensorSpec t;
    t.storage = static_cast<std::size_t>(a[0]->integer);
    t.offset = a[1]->integer;
    for (const Value* v : a[2]->items) t.size.push_back(v->integer);
    for (const Value* v : a[3]->items) t.stride.push_back(v->integer);
    const StorageRef& s = storages[t.storage];
    // numel, and the last element's index, without overflow.
    std::int64_t numel = 1, last = t.offset;
    bool overflow = false;
    for (std::size_t i = 0; i < t.size.size(); ++i) {
      std::int64_t reach = 0;
      overflow |= __builtin_mul_overflow(numel, t.size[i], &numel);
      if (t.size[i] > 0) overflow |= __builtin_mul_overflow(t.size[i] - 1, t.stride[i], &reach);
      overflow |= __builtin_add_overflow(last, reach, &last);
    }
    const std::string what = str_cat("a ", s.type->dtype, " tensor of size ", shape_str(t.size), ", stride ",
                                     shape_str(t.stride), " at offset ", t.offset, " of storage '", s.key, "' (",
                                     s.numel, " elements)");
    if (overflow) u.fail(str_cat(what, ": its extent overflows int64"));
    if (numel > 0 && static_cast<std::uint64_t>(last) >= s.numel) u.fail(str_cat(what, ": reaches past the storage's end"));
    if (static_cast<std::uint64_t>(numel) > s.numel)
      u.fail(str_cat(what, ": has more elements than its storage (an expanded, stride-0 view); save a .contiguous() copy"));
    tensors.push_back(std::move(t));
    Value* v = u.make(Kind::Opaque);
    v->text = "tensor";
    v->integer = static_cast<std::int64_t>(tensors.size() - 1);
    return v;
  }

  // ('storage', torch.<T>Storage, key, location, numel[, view_metadata])
  Value* persistent_load(Unpickler& u, const Value& pid) {
    const std::vector<Value*>& p = pid.items;
    if (!pid.is(Kind::Tuple) || p.size() < 5 || p.size() > 6 || !p[0]->is(Kind::String) || p[0]->text != "storage")
      u.fail(str_cat("expected a persistent id ('storage', type, key, location, numel), got ", pickle::describe(pid),
                     pid.is(Kind::Tuple) && !p.empty() ? str_cat(" starting with ", pickle::describe(*p[0])) : ""));
    if (!p[1]->is(Kind::Global) || p[1]->text != "torch")
      u.fail(str_cat("the storage type is ", pickle::describe(*p[1]), ", expected torch.<T>Storage"));
    const StorageType* type = find_storage_type(p[1]->name);
    if (!type) {
      std::string known;
      for (const StorageType& t : kStorageTypes) known += str_cat(known.empty() ? "" : ", ", t.name);
      u.fail(str_cat("storage type torch.", p[1]->name, " is not supported (supported: ", known, ")"));
    }
    if (!p[2]->is(Kind::String) || p[2]->text.empty() || !p[3]->is(Kind::String) || !p[4]->is(Kind::Int) ||
        p[4]->integer < 0)
      u.fail(str_cat("the storage key, location and element count are ", pickle::describe(*p[2]), ", ",
                     pickle::describe(*p[3]), " and ", pickle::describe(*p[4])));
    const std::string& key = p[2]->text;
    const auto numel = static_cast<std::uint64_t>(p[4]->integer);
    if (numel > file_size_ / type->size)
      u.fail(str_cat("storage '", key, "' claims ", numel, " ", type->dtype, " elements, more than the file's ",
                     file_size_, " bytes can hold"));
    if (p[3]->text != "cpu" && std::find(devices.begin(), devices.end(), p[3]->text) == devices.end())
      devices.push_back(p[3]->text);

    const std::size_t root = storage(u, key, type, numel);
    std::size_t index = root;
    if (p.size() == 6 && !p[5]->is(Kind::None)) {  // legacy view: (view_key, offset, size) into the root
      const Value& view = *p[5];
      if (!view.is(Kind::Tuple) || view.items.size() != 3 || !view.items[0]->is(Kind::String) ||
          !view.items[1]->is(Kind::Int) || !view.items[2]->is(Kind::Int) || view.items[1]->integer < 0 ||
          view.items[2]->integer < 0)
        u.fail(str_cat("storage '", key, "': the view metadata is ", pickle::describe(view),
                       ", expected (key, offset, size)"));
      const auto offset = static_cast<std::uint64_t>(view.items[1]->integer);
      const auto size = static_cast<std::uint64_t>(view.items[2]->integer);
      if (offset > numel || size > numel - offset)
        u.fail(str_cat("storage view '", view.items[0]->text, "' (offset ", offset, ", size ", size,
                       ") reaches past its base storage '", key, "' of ", numel, " elements"));
      index = storage(u, view.items[0]->text, type, size);
      StorageRef& v = storages[index];
      if (v.root != index && (v.root != root || v.view_offset != offset))
        u.fail(str_cat("storage view '", v.key, "' is described twice, differently"));
      v.root = root;
      v.view_offset = offset;
    }
    Value* v = u.make(Kind::Opaque);
    v->text = "storage";
    v->integer = static_cast<std::int64_t>(index);
    return v;
  }

  // The index of storage `key`, added when new; a key seen again must agree.
  std::size_t storage(Unpickler& u, const std::string& key, const StorageType* type, std::uint64_t numel) {
    auto it = by_key.find(key);
    if (it != by_key.end()) {
      const StorageRef& s = storages[it->second];
      if (s.type != type || s.numel != numel)
        u.fail(str_cat("storage '", key, "' is named as ", s.numel, " ", s.type->name, " elements and as ", numel,
                       " ", type->name, " elements"));
      return it->second;
    }
    StorageRef s;
    s.key = key;
    s.type = type;
    s.numel = numel;
    s.root = storages.size();
    by_key.emplace(key, storages.size());
    storages.push_back(std::move(s));
    return storages.size() - 1;
  }

  void build(Unpickler& u, Value& obj, const Value& state) {
    if (obj.is(Kind::Dict) && (state.is(Kind::Dict) || state.is(Kind::None))) return;  // OrderedDict attributes (_metadata)
    if (obj.is(Kind::Opaque) && obj.text == "numpy dtype" && state.is(Kind::Tuple) && state.items.size() >= 2 &&
        state.items[1]->is(Kind::String)) {
      obj.integer = state.items[1]->text == ">" ? 1 : 0;  // big-endian flag
      return;
    }
    u.fail(str_cat("setting the state of ", pickle::describe(obj), " to ", pickle::describe(state),
                   " is not supported"));
  }

  // numpy.core.multiarray.scalar(dtype, bytes): a numpy scalar such as a saved best accuracy.
  static Value* numpy_scalar(Unpickler& u, const std::vector<Value*>& a) {
    if (a.size() != 2 || !a[0]->is(Kind::Opaque) || a[0]->text != "numpy dtype" || !a[1]->is(Kind::Bytes))
      u.fail("numpy scalar(dtype, bytes) expects a numpy dtype and bytes");
    const std::string& type = a[0]->name;
    const std::string& b = a[1]->text;
    const std::size_t width = type.size() == 2 && type[1] >= '1' && type[1] <= '8' ? type[1] - '0' : 0;
    const char kind = type.empty() ? '?' : type[0];
    if (width == 0 || b.size() != width || (kind != 'f' && kind != 'i' && kind != 'u' && kind != 'b'))
      u.fail(str_cat("numpy scalar of dtype '", type, "' with ", b.size(), " bytes is not supported"));
    if (a[0]->integer == 1 && width > 1) u.fail(str_cat("big-endian numpy scalar of dtype '", type, "'"));
    Value* v = nullptr;
    if (kind == 'f') {
      v = u.make(Kind::Float);
      if (width == 8) v->real = load_as<double>(b.data());
      else if (width == 4) v->real = load_as<float>(b.data());
      else if (width == 2) v->real = half_to_float(load_as<std::uint16_t>(b.data()));
      else u.fail(str_cat("numpy float of ", width, " bytes"));
    } else if (kind == 'b') {
      v = u.make(Kind::Bool);
      v->boolean = b[0] != 0;
    } else {
      std::uint64_t bits = 0;
      for (std::size_t i = width; i-- > 0;) bits = (bits << 8) | static_cast<unsigned char>(b[i]);
      if (kind == 'i' && width < 8 && (bits >> (8 * width - 1)) & 1) bits |= ~std::uint64_t{0} << (8 * width);
      if (kind == 'u' && width == 8 && (bits >> 63)) u.fail("numpy uint64 scalar beyond int64");
      v = u.make(Kind::Int);
      v->integer = static_cast<std::int64_t>(bits);
    }
    return v;
  }

  // _codecs.encode(str, 'latin1'): each code point (< 256) is one byte.
  static Value* latin1_bytes(Unpickler& u, const std::vector<Value*>& a) {
    if (a.size() != 2 || !a[0]->is(Kind::String) || !a[1]->is(Kind::String) ||
        (a[1]->text != "latin1" && a[1]->text != "latin-1"))
      u.fail("_codecs.encode is allowed only as encode(str, 'latin1'), how protocol 2 writes bytes");
    Value* v = u.make(Kind::Bytes);
    const std::string& s = a[0]->text;  // valid UTF-8, checked by the unpickler
    for (std::size_t i = 0; i < s.size();) {
      const unsigned char c = static_cast<unsigned char>(s[i]);
      if (c < 0x80) {
        v->text += static_cast<char>(c);
        i += 1;
      } else if ((c & 0xe0) == 0xc0 && c <= 0xc3) {  // U+0080..U+00FF
        v->text += static_cast<char>(((c & 0x1f) << 6) | (static_cast<unsigned char>(s[i + 1]) & 0x3f));
        i += 2;
      } else {
        u.fail("_codecs.encode(str, 'latin1') of a character beyond U+00FF");
      }
    }
    return v;
  }

  std::string source_;
  std::uint64_t file_size_;
};

// ---------------------------------------------------------------- the two formats

struct LoadedPickle {
  std::unique_ptr<Unpickler> unpickler;  // owns the values
  const Value* root = nullptr;
};

LoadedPickle read_zip(std::string_view bytes, const std::string& source, Collector& c) {
  const ZipReader zip(bytes, source);
  // The archive's own top folder: torch names it after the file's stem at save time.
  std::vector<std::string> pickles;
  for (const ZipEntry& e : zip.entries()) {
    const std::size_t slash = e.name.find('/');
    if (slash != std::string::npos && slash > 0 && e.name.substr(slash) == "/data.pkl") pickles.push_back(e.name);
  }
  if (pickles.size() != 1) {
    std::string names;
    for (std::size_t i = 0; i < zip.entries().size() && i < 8; ++i)
      names += str_cat(i ? ", " : "", "'", zip.entries()[i].name, "'");
    fail(source, pickles.empty() ? "no '<folder>/data.pkl' entry: not a torch.save archive"
                                 : "more than one '<folder>/data.pkl' entry",
         " (", zip.entries().size(), " entries: ", names, zip.entries().size() > 8 ? ", ..." : "", ")");
  }
  const std::string prefix = pickles[0].substr(0, pickles[0].size() - std::string("/data.pkl").size());
  if (zip.find(prefix + "/constants.pkl"))
    fail(source, "a TorchScript archive (torch.jit.save), not a state_dict: in Python, torch.save(model.state_dict(), path)");
  if (const ZipEntry* order = zip.find(prefix + "/byteorder")) {
    const std::string_view value = zip.read(*order);
    if (value != "little")
      fail(source, "'", prefix, "/byteorder' says '", value.substr(0, 16), "': only little-endian checkpoints are supported");
  }

  LoadedPickle out;
  out.unpickler = std::make_unique<Unpickler>(zip.read(*zip.find(pickles[0])), str_cat(source, ": ", pickles[0]), c.hooks());
  out.root = out.unpickler->load();

  for (StorageRef& s : c.storages) {
    const std::string name = str_cat(prefix, "/data/", s.key);
    const ZipEntry* e = zip.find(name);
    if (!e) fail(source, "storage '", s.key, "' has no entry '", name, "'");
    const std::uint64_t expected = s.numel * s.type->size;
    if (e->size != expected)
      fail(source, "entry '", name, "' holds ", e->size, " bytes, but its storage is ", s.numel, " ", s.type->dtype,
           " elements (", expected, " bytes)");
    s.bytes = zip.read(*e);
    s.located = true;
  }
  return out;
}

// The little-endian bytes of the legacy magic number 0x1950a86a20f9469cfc6c.
constexpr unsigned char kLegacyMagic[] = {0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};
constexpr std::int64_t kLegacyProtocol = 1001;

bool looks_like_legacy(std::string_view b) {
  // PROTO 2, LONG1 of 10 bytes: the magic number's pickle.
  return b.size() >= 4 && static_cast<unsigned char>(b[0]) == 0x80 && b[1] == 2 &&
         static_cast<unsigned char>(b[2]) == 0x8a && b[3] == 10;
}

LoadedPickle read_legacy(std::string_view bytes, const std::string& source, Collector& c, std::vector<std::string>& notes) {
  std::size_t pos = 0;
  // Each pickle has its own memo, as each pickle.load() in torch does.
  auto next = [&](const char* what, pickle::UnpickleHooks hooks) {
    LoadedPickle p;
    p.unpickler = std::make_unique<Unpickler>(bytes.substr(pos), str_cat(source, ": legacy ", what, " pickle at byte ", pos),
                                              std::move(hooks));
    p.root = p.unpickler->load();
    pos += p.unpickler->consumed();
    return p;
  };
  const LoadedPickle magic = next("magic-number", {});
  if (!magic.root->is(Kind::BigInt) ||
      magic.root->text != std::string_view(reinterpret_cast<const char*>(kLegacyMagic), sizeof kLegacyMagic))
    fail(source, "the legacy magic number is wrong (", pickle::describe(*magic.root), "): not a torch checkpoint, or corrupt");
  const LoadedPickle protocol = next("protocol-version", {});
  if (!protocol.root->is(Kind::Int) || protocol.root->integer != kLegacyProtocol)
    fail(source, "legacy protocol version ", pickle::describe(*protocol.root), " is not supported (only ", kLegacyProtocol, ")");
  const LoadedPickle sys_info = next("sys-info", {});
  const Value* little = pickle::dict_get(*sys_info.root, "little_endian");
  if (!little || !little->is(Kind::Bool))
    fail(source, "the legacy sys_info is ", pickle::describe(*sys_info.root), " without a little_endian flag");
  if (!little->boolean) fail(source, "saved on a big-endian machine: only little-endian checkpoints are supported");

  LoadedPickle main = next("object", c.hooks());
  const LoadedPickle keys = next("storage-keys", {});
  if (!keys.root->is(Kind::List)) fail(source, "the legacy storage-key list is ", pickle::describe(*keys.root));

  for (const Value* key : keys.root->items) {
    if (!key->is(Kind::String)) fail(source, "a legacy storage key is ", pickle::describe(*key), ", not a string");
    auto it = c.by_key.find(key->text);
    if (it == c.by_key.end() || c.storages[it->second].root != it->second)
      fail(source, "storage '", key->text, "' has data but no tensor uses it");
    StorageRef& s = c.storages[it->second];
    if (s.located) fail(source, "storage '", s.key, "' is listed twice");
    if (bytes.size() - pos < 8) fail(source, "the file ends before the element count of storage '", s.key, "' (truncated)");
    const std::int64_t count = load_as<std::int64_t>(bytes.data() + pos);
    if (count < 0 || static_cast<std::uint64_t>(count) != s.numel)
      fail(source, "storage '", s.key, "' holds ", count, " elements at byte ", pos, ", but the pickle says ", s.numel);
    pos += 8;
    const std::uint64_t n = s.numel * s.type->size;
    if (bytes.size() - pos < n)
      fail(source, "the file ends inside storage '", s.key, "' (", n, " bytes at byte ", pos, ", ", bytes.size() - pos,
           " left: truncated)");
    s.bytes = bytes.substr(pos, n);
    s.located = true;
    pos += n;
  }
  for (std::size_t i = 0; i < c.storages.size(); ++i) {
    StorageRef& s = c.storages[i];
    if (s.root == i) {
      if (!s.located) fail(source, "storage '", s.key, "' is used but its data is not in the file");
      continue;
    }
    const StorageRef& root = c.storages[s.root];
    s.bytes = root.bytes.substr(s.view_offset * s.type->size, s.numel * s.type->size);
    s.located = true;
  }
  if (pos != bytes.size()) notes.push_back(str_cat(bytes.size() - pos, " bytes after the last storage were ignored"));
  return main;
}

// ---------------------------------------------------------------- the state_dict

bool is_tensor(const Value& v) { return v.is(Kind::Opaque) && v.text == "tensor"; }

bool holds_tensors(const Value& dict) {
  for (const auto& [k, v] : dict.entries)
    if (is_tensor(*v)) return true;
  return false;
}

std::string name_list(const std::vector<std::string>& names, std::size_t max = 6) {
  std::string out;
  for (std::size_t i = 0; i < names.size() && i < max; ++i) out += str_cat(i ? ", " : "", names[i]);
  if (names.size() > max) out += str_cat(" and ", names.size() - max, " more");
  return out;
}

// The (name, tensor value) entries of the state_dict inside `root`.
std::vector<std::pair<std::string, const Value*>> select_state_dict(const Value& root, const std::string& source,
                                                                    std::vector<std::string>& notes) {
  if (!root.is(Kind::Dict))
    fail(source, "the saved object is ", pickle::describe(root),
         ", expected a dict (a state_dict, or a dict holding one under 'state_dict', 'model', 'net' or 'state')");
  const Value* dict = &root;
  std::string path;
  for (int level = 0; level < 4 && !holds_tensors(*dict); ++level) {
    const Value* inner = nullptr;
    std::string key;
    for (const char* k : {"state_dict", "model", "net", "state"}) {
      const Value* v = pickle::dict_get(*dict, k);
      if (v && v->is(Kind::Dict)) {
        inner = v;
        key = k;
        break;
      }
    }
    if (!inner) break;
    std::vector<std::string> others;
    for (const auto& [k, v] : dict->entries)
      if (!(k->is(Kind::String) && k->text == key)) others.push_back(pickle::describe(*k, 40));
    path += str_cat("['", key, "']");
    notes.push_back(str_cat("the state_dict is the entry ", path, " of the saved dict",
                            others.empty() ? std::string() : str_cat("; other entries ignored: ", name_list(others))));
    dict = inner;
  }

  std::vector<std::pair<std::string, const Value*>> out;
  std::vector<std::string> skipped;
  std::unordered_map<std::string, std::size_t> seen;
  for (const auto& [k, v] : dict->entries) {
    if (!is_tensor(*v)) {
      skipped.push_back(str_cat(pickle::describe(*k, 40), " (", pickle::kind_name(v->kind), ")"));
      continue;
    }
    if (!k->is(Kind::String)) fail(source, "a tensor's name is ", pickle::describe(*k), ", not a string");
    if (!seen.emplace(k->text, out.size()).second) fail(source, "the tensor name '", k->text, "' appears twice");
    out.emplace_back(k->text, v);
  }
  if (!skipped.empty()) {
    if (out.empty())
      fail(source, "no tensors in the state_dict", path.empty() ? "" : str_cat(" ", path), ": it holds ", name_list(skipped));
    notes.push_back(str_cat("skipped ", skipped.size(), " entries that are not tensors: ", name_list(skipped)));
  }
  const std::string prefix = "module.";
  bool all_prefixed = !out.empty();
  for (const auto& entry : out) all_prefixed = all_prefixed && entry.first.starts_with(prefix);
  if (all_prefixed) {
    for (auto& entry : out) entry.first.erase(0, prefix.size());
    notes.push_back(str_cat("stripped the 'module.' prefix (nn.DataParallel) from all ", out.size(), " names"));
  }
  return out;
}

// Copies the tensor's elements, in row-major order of its size, from the
// storage bytes at `base`, decoding each with `decode`.
template <typename Out, typename Decode>
void gather(const char* base, std::size_t elem_size, const TensorSpec& t, Out* out, Decode decode) {
  const std::int64_t numel = shape_numel(t.size);
  if (numel == 0) return;
  const std::size_t dims = t.size.size();
  if (dims == 0) {
    out[0] = decode(base + t.offset * elem_size);
    return;
  }
  const std::int64_t inner = t.size[dims - 1];
  const std::size_t inner_step = static_cast<std::size_t>(t.stride[dims - 1]) * elem_size;
  std::vector<std::int64_t> index(dims, 0);
  std::int64_t row = t.offset;  // storage element of the current row's first element
  for (std::int64_t done = 0; done < numel; done += inner) {
    const char* p = base + static_cast<std::size_t>(row) * elem_size;
    for (std::int64_t j = 0; j < inner; ++j, p += inner_step) *out++ = decode(p);
    for (std::size_t k = dims - 1; k-- > 0;) {  // odometer over the outer dimensions
      if (++index[k] < t.size[k]) {
        row += t.stride[k];
        break;
      }
      row -= (t.size[k] - 1) * t.stride[k];
      index[k] = 0;
    }
  }
}

bool row_major(const TensorSpec& t) {
  const Shape expected = contiguous_strides(t.size);
  for (std::size_t i = 0; i < t.size.size(); ++i)
    if (t.size[i] > 1 && t.stride[i] != expected[i]) return false;
  return true;
}

Tensor materialize(const TensorSpec& t, const StorageRef& s) {
  const StorageType& type = *s.type;
  Tensor out = Tensor::empty(t.size, type.loads_as);
  const char* base = s.bytes.data();
  const std::size_t n = static_cast<std::size_t>(out.numel());
  if (n > 0 && row_major(t) && dtype_size(type.loads_as) == type.size && type.elem != Elem::BF16 &&
      type.elem != Elem::F16) {
    std::memcpy(out.raw_data(), base + t.offset * type.size, n * type.size);
    return out;
  }
  switch (type.elem) {
    case Elem::F32: gather(base, 4, t, out.data<float>(), load_as<float>); break;
    case Elem::F64: gather(base, 8, t, out.data<double>(), load_as<double>); break;
    case Elem::F16:
      gather(base, 2, t, out.data<float>(), [](const char* p) { return half_to_float(load_as<std::uint16_t>(p)); });
      break;
    case Elem::BF16:
      gather(base, 2, t, out.data<float>(), [](const char* p) { return bfloat16_to_float(load_as<std::uint16_t>(p)); });
      break;
    case Elem::I64: gather(base, 8, t, out.data<std::int64_t>(), load_as<std::int64_t>); break;
    case Elem::I32: gather(base, 4, t, out.data<std::int64_t>(), [](const char* p) -> std::int64_t { return load_as<std::int32_t>(p); }); break;
    case Elem::I16: gather(base, 2, t, out.data<std::int64_t>(), [](const char* p) -> std::int64_t { return load_as<std::int16_t>(p); }); break;
    case Elem::I8: gather(base, 1, t, out.data<std::int64_t>(), [](const char* p) -> std::int64_t { return static_cast<std::int8_t>(*p); }); break;
    case Elem::U8: gather(base, 1, t, out.data<std::int64_t>(), [](const char* p) -> std::int64_t { return static_cast<unsigned char>(*p); }); break;
    case Elem::Bool: gather(base, 1, t, out.data<std::int64_t>(), [](const char* p) -> std::int64_t { return *p != 0; }); break;
  }
  return out;
}

// A read-only memory map of a whole file (empty files map to nothing).
class MappedFile {
 public:
  explicit MappedFile(const std::string& path) {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) throw Error(str_cat("torch checkpoint '", path, "': cannot open: ", std::strerror(errno)));
    struct stat st {};
    const bool stat_ok = ::fstat(fd_, &st) == 0;
    if (!stat_ok || !S_ISREG(st.st_mode)) {
      const std::string why = stat_ok ? "not a regular file" : std::strerror(errno);
      ::close(fd_);
      throw Error(str_cat("torch checkpoint '", path, "': cannot read it: ", why));
    }
    size_ = static_cast<std::size_t>(st.st_size);
    if (size_ > 0) {
      void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd_, 0);
      if (p == MAP_FAILED) {
        const int err = errno;
        ::close(fd_);
        throw Error(str_cat("torch checkpoint '", path, "': cannot map ", size_, " bytes: ", std::strerror(err)));
      }
      data_ = static_cast<const char*>(p);
    }
  }
  ~MappedFile() {
    if (data_) ::munmap(const_cast<char*>(data_), size_);
    ::close(fd_);
  }
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  std::string_view bytes() const { return {data_ ? data_ : "", size_}; }

 private:
  int fd_ = -1;
  const char* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace

const Tensor* TorchCheckpoint::find(const std::string& name) const {
  for (const auto& [n, t] : tensors)
    if (n == name) return &t;
  return nullptr;
}

TorchCheckpoint parse_torch_checkpoint(std::string_view bytes, const std::string& source) {
  TorchCheckpoint out;
  Collector collector(source, bytes.size());
  LoadedPickle loaded;
  if (looks_like_zip(bytes)) {
    out.format = "zip";
    loaded = read_zip(bytes, source, collector);
  } else if (looks_like_legacy(bytes)) {
    out.format = "legacy";
    loaded = read_legacy(bytes, source, collector, out.notes);
  } else {
    std::string head;
    for (std::size_t i = 0; i < bytes.size() && i < 8; ++i)
      head += str_cat(i ? " " : "", "0123456789abcdef"[static_cast<unsigned char>(bytes[i]) >> 4],
                      "0123456789abcdef"[static_cast<unsigned char>(bytes[i]) & 15]);
    fail(source, "not a PyTorch checkpoint: neither a zip archive (torch >= 1.6) nor a legacy pickle stream (",
         bytes.size(), " bytes, starting ", head.empty() ? "with nothing" : head, ")");
  }

  const auto entries = select_state_dict(*loaded.root, source, out.notes);

  // Budget the copies before making any: names of one tensor share it.
  std::uint64_t total = 0;
  std::vector<bool> counted(collector.tensors.size(), false);
  for (const auto& [name, v] : entries) {
    const auto index = static_cast<std::size_t>(v->integer);
    if (counted[index]) continue;
    counted[index] = true;
    const TensorSpec& t = collector.tensors[index];
    total += static_cast<std::uint64_t>(shape_numel(t.size)) * dtype_size(collector.storages[t.storage].type->loads_as);
  }
  if (total > 8 * static_cast<std::uint64_t>(bytes.size()))
    fail(source, "its tensors would take ", total, " bytes, more than 8x the file's ", bytes.size(),
         " bytes (overlapping views of one storage?)");

  std::map<std::string, std::vector<std::string>> converted;  // "float16 to float32" -> names
  std::unordered_map<std::size_t, Tensor> made;
  for (const auto& [name, v] : entries) {
    const auto index = static_cast<std::size_t>(v->integer);
    const TensorSpec& t = collector.tensors[index];
    const StorageRef& s = collector.storages[t.storage];
    auto it = made.find(index);
    if (it == made.end()) it = made.emplace(index, materialize(t, s)).first;
    if (std::string(s.type->dtype) != dtype_name(s.type->loads_as))
      converted[str_cat(s.type->dtype, " to ", dtype_name(s.type->loads_as))].push_back(name);
    out.tensors.emplace_back(name, it->second);
  }
  for (const auto& [what, names] : converted) out.notes.push_back(str_cat("converted ", what, ": ", name_list(names)));
  if (!collector.devices.empty())
    out.notes.push_back(str_cat("storages saved on ", name_list(collector.devices), " were loaded to the CPU"));
  return out;
}

TorchCheckpoint load_torch_checkpoint(const std::string& path) {
  const MappedFile file(path);
  return parse_torch_checkpoint(file.bytes(), path);
}

}  // namespace sceald::io
