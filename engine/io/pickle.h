// A safe unpickler for the subset of Python's pickle format that PyTorch
// checkpoints use (protocols 2 to 5). It builds plain values (None, bool,
// int, float, str, bytes, tuple, list, dict) and never runs code: a global
// (GLOBAL, STACK_GLOBAL) loads only when the caller's allow_global accepts
// it, and calling one (REDUCE, NEWOBJ), BUILD and persistent ids
// (BINPERSID) go to the caller's hooks, which build values themselves.
// Anything the hooks do not provide is an error.
//
// Opcodes: PROTO, FRAME, STOP, MARK, EMPTY_DICT/LIST/TUPLE, TUPLE/TUPLE1/2/3,
// LIST/APPEND/APPENDS, DICT/SETITEM/SETITEMS, BININT/BININT1/BININT2,
// LONG1/LONG4, BINFLOAT, SHORT_BINUNICODE/BINUNICODE/BINUNICODE8,
// SHORT_BINSTRING/BINSTRING (read as str), SHORT_BINBYTES/BINBYTES/BINBYTES8,
// NONE/NEWTRUE/NEWFALSE, BINPUT/LONG_BINPUT/MEMOIZE/BINGET/LONG_BINGET,
// GLOBAL/STACK_GLOBAL, REDUCE, NEWOBJ, BUILD, BINPERSID, POP, POP_MARK, DUP.
// Any other opcode is an error naming it and its offset.
//
// Bounds: every length is checked against the remaining input before
// anything is read or allocated; the stack, the mark depth, the memo and the
// number of values are capped (Limits); strings must be valid UTF-8.
// Values may share children (the memo) and even form cycles (a list
// appended to itself), so code that walks them must bound its depth;
// describe() does.
//
// Errors are sceald::Error: "pickle '<source>' at byte N (OPCODE): what".
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace sceald::io::pickle {

struct Value {
  enum class Kind : std::uint8_t { None, Bool, Int, BigInt, Float, String, Bytes, Tuple, List, Dict, Global, Opaque };
  Kind kind = Kind::None;
  bool boolean = false;     // Bool
  std::int64_t integer = 0; // Int; Opaque: an id of the hook's choosing
  double real = 0;          // Float
  // String and Bytes: the bytes (UTF-8 for String); BigInt: little-endian
  // two's complement, for ints beyond int64; Global: the module; Opaque: a tag.
  std::string text;
  std::string name;                                    // Global: the name; Opaque: free for the hook
  std::vector<Value*> items;                           // Tuple, List
  std::vector<std::pair<Value*, Value*>> entries;      // Dict: every SETITEM in order (duplicates kept)

  bool is(Kind k) const { return kind == k; }
};

const char* kind_name(Value::Kind kind);
// A short rendering for error messages ("'conv1.weight'", "tuple of 3", ...),
// at most `max_chars` long.
std::string describe(const Value& v, std::size_t max_chars = 80);
// The value under the string `key` in a dict (the last SETITEM wins), or
// nullptr when the dict has no such key.
const Value* dict_get(const Value& dict, std::string_view key);

struct Limits {
  std::size_t max_stack = 1u << 20;   // values on the stack at once
  std::size_t max_marks = 1u << 10;   // MARKs open at once (nesting of TUPLE/LIST/DICT)
  std::size_t max_memo = 1u << 22;    // memo entries
  std::size_t max_values = 1u << 26;  // values built in all
};

class Unpickler;

struct UnpickleHooks {
  // GLOBAL and STACK_GLOBAL: true to let `module.name` load (as a Global
  // value); false makes it an error naming the global.
  std::function<bool(const std::string& module, const std::string& name)> allow_global;
  // Appended to the error for a refused global: what the user can do instead.
  std::string refused_global_hint;
  // REDUCE and NEWOBJ: call `callable` (an allowed Global) with `args` (a tuple).
  std::function<Value*(Unpickler&, const Value& callable, const Value& args)> call;
  // BINPERSID: the object a persistent id stands for.
  std::function<Value*(Unpickler&, const Value& pid)> persistent_load;
  // BUILD: obj.__setstate__(state); may change `obj` in place.
  std::function<void(Unpickler&, Value& obj, const Value& state)> build;
};

class Unpickler {
 public:
  // Reads one pickle starting at the beginning of `input`, which must
  // outlive the unpickler; `source` names it in errors.
  Unpickler(std::string_view input, std::string source, UnpickleHooks hooks = {}, Limits limits = {});
  // A temporary string would leave the unpickler reading freed memory.
  Unpickler(std::string&& input, std::string source, UnpickleHooks hooks = {}, Limits limits = {}) = delete;
  Unpickler(const Unpickler&) = delete;
  Unpickler& operator=(const Unpickler&) = delete;

  // Runs to STOP and returns the top value (owned by this unpickler, valid
  // while it lives). Call once.
  Value* load();
  // Bytes consumed by load(): where the next pickle of a stream starts.
  std::size_t consumed() const { return pos_; }

  // A new value owned by this unpickler, for hooks.
  Value* make(Value::Kind kind);
  // Throws sceald::Error with the source, the offset and the opcode.
  [[noreturn]] void fail(const std::string& what) const;

 private:
  std::uint8_t read_u8();
  std::string_view read_bytes(std::uint64_t n, const char* what);
  std::uint64_t read_uint(int bytes);
  std::string_view read_line();
  void step(std::uint8_t op);
  void push(Value* v);
  Value* pop();
  Value* top();
  std::vector<Value*> pop_to_mark();
  void memo_put(std::uint64_t index, Value* v);
  Value* memo_get(std::uint64_t index);
  Value* make_string(std::string_view bytes, Value::Kind kind);
  Value* make_long(std::string_view le_bytes);
  Value* make_global(std::string module, std::string name);
  void set_items(Value& dict, const std::vector<Value*>& flat);

  std::string_view in_;
  std::string source_;
  UnpickleHooks hooks_;
  Limits limits_;
  std::size_t pos_ = 0;
  std::size_t op_pos_ = 0;
  std::uint8_t op_ = 0;
  bool stopped_ = false;
  std::vector<Value*> stack_;
  std::vector<std::size_t> marks_;  // stack sizes at each open MARK
  std::unordered_map<std::uint64_t, Value*> memo_;
  std::deque<Value> values_;  // every value built, stable addresses
  Value* none_ = nullptr;     // shared immutable singletons
  Value* true_ = nullptr;
  Value* false_ = nullptr;
  Value* empty_tuple_ = nullptr;
};

}  // namespace sceald::io::pickle
