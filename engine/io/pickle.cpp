#include "engine/io/pickle.h"

#include <bit>
#include <cstring>

#include "engine/error.h"

namespace sceald::io::pickle {
namespace {

using Kind = Value::Kind;

// Opcodes of the subset, by their byte.
enum Op : std::uint8_t {
  MARK = '(', STOP = '.', POP = '0', POP_MARK = '1', DUP = '2', BINFLOAT = 'G', BININT = 'J', BININT1 = 'K',
  BININT2 = 'M', NONE = 'N', BINPERSID = 'Q', REDUCE = 'R', BINSTRING = 'T', SHORT_BINSTRING = 'U',
  BINUNICODE = 'X', APPEND = 'a', BUILD = 'b', GLOBAL = 'c', DICT = 'd', APPENDS = 'e', BINGET = 'h',
  LONG_BINGET = 'j', LIST = 'l', BINPUT = 'q', LONG_BINPUT = 'r', SETITEM = 's', TUPLE = 't', SETITEMS = 'u',
  EMPTY_DICT = '}', EMPTY_LIST = ']', EMPTY_TUPLE = ')', BINBYTES = 'B', SHORT_BINBYTES = 'C',
  PROTO = 0x80, NEWOBJ = 0x81, TUPLE1 = 0x85, TUPLE2 = 0x86, TUPLE3 = 0x87, NEWTRUE = 0x88, NEWFALSE = 0x89,
  LONG1 = 0x8a, LONG4 = 0x8b, SHORT_BINUNICODE = 0x8c, BINUNICODE8 = 0x8d, BINBYTES8 = 0x8e,
  STACK_GLOBAL = 0x93, MEMOIZE = 0x94, FRAME = 0x95,
};

const char* op_name(std::uint8_t op) {
  switch (op) {
    case MARK: return "MARK";
    case STOP: return "STOP";
    case POP: return "POP";
    case POP_MARK: return "POP_MARK";
    case DUP: return "DUP";
    case BINFLOAT: return "BINFLOAT";
    case BININT: return "BININT";
    case BININT1: return "BININT1";
    case BININT2: return "BININT2";
    case NONE: return "NONE";
    case BINPERSID: return "BINPERSID";
    case REDUCE: return "REDUCE";
    case BINSTRING: return "BINSTRING";
    case SHORT_BINSTRING: return "SHORT_BINSTRING";
    case BINUNICODE: return "BINUNICODE";
    case APPEND: return "APPEND";
    case BUILD: return "BUILD";
    case GLOBAL: return "GLOBAL";
    case DICT: return "DICT";
    case APPENDS: return "APPENDS";
    case BINGET: return "BINGET";
    case LONG_BINGET: return "LONG_BINGET";
    case LIST: return "LIST";
    case BINPUT: return "BINPUT";
    case LONG_BINPUT: return "LONG_BINPUT";
    case SETITEM: return "SETITEM";
    case TUPLE: return "TUPLE";
    case SETITEMS: return "SETITEMS";
    case EMPTY_DICT: return "EMPTY_DICT";
    case EMPTY_LIST: return "EMPTY_LIST";
    case EMPTY_TUPLE: return "EMPTY_TUPLE";
    case BINBYTES: return "BINBYTES";
    case SHORT_BINBYTES: return "SHORT_BINBYTES";
    case PROTO: return "PROTO";
    case NEWOBJ: return "NEWOBJ";
    case TUPLE1: return "TUPLE1";
    case TUPLE2: return "TUPLE2";
    case TUPLE3: return "TUPLE3";
    case NEWTRUE: return "NEWTRUE";
    case NEWFALSE: return "NEWFALSE";
    case LONG1: return "LONG1";
    case LONG4: return "LONG4";
    case SHORT_BINUNICODE: return "SHORT_BINUNICODE";
    case BINUNICODE8: return "BINUNICODE8";
    case BINBYTES8: return "BINBYTES8";
    case STACK_GLOBAL: return "STACK_GLOBAL";
    case MEMOIZE: return "MEMOIZE";
    case FRAME: return "FRAME";
    default: return nullptr;
  }
}

// UTF-8 as Python's pickle writes it ('utf-8' with 'surrogatepass', so
// encoded surrogates are allowed); overlong forms and values past U+10FFFF
// are not.
bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    int extra;
    std::uint32_t cp;
    if (c < 0x80) { ++i; continue; }
    if ((c & 0xe0) == 0xc0) { extra = 1; cp = c & 0x1f; }
    else if ((c & 0xf0) == 0xe0) { extra = 2; cp = c & 0x0f; }
    else if ((c & 0xf8) == 0xf0) { extra = 3; cp = c & 0x07; }
    else return false;
    if (s.size() - i <= static_cast<std::size_t>(extra)) return false;
    for (int k = 1; k <= extra; ++k) {
      const unsigned char d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3f);
    }
    static constexpr std::uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[extra] || cp > 0x10ffff) return false;
    i += extra + 1;
  }
  return true;
}

// Printable rendering of a string for messages: control bytes escaped, cut
// at `max` bytes.
std::string quoted(std::string_view s, std::size_t max) {
  std::string out = "'";
  for (std::size_t i = 0; i < s.size() && i < max; ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f || c == '\'' || c == '\\')
      out += str_cat("\\x", "0123456789abcdef"[c >> 4], "0123456789abcdef"[c & 15]);
    else
      out += static_cast<char>(c);
  }
  if (s.size() > max) out += "...";
  return out + "'";
}

}  // namespace

const char* kind_name(Kind kind) {
  switch (kind) {
    case Kind::None: return "None";
    case Kind::Bool: return "bool";
    case Kind::Int: return "int";
    case Kind::BigInt: return "int";
    case Kind::Float: return "float";
    case Kind::String: return "str";
    case Kind::Bytes: return "bytes";
    case Kind::Tuple: return "tuple";
    case Kind::List: return "list";
    case Kind::Dict: return "dict";
    case Kind::Global: return "global";
    case Kind::Opaque: return "object";
  }
  return "?";
}

std::string describe(const Value& v, std::size_t max_chars) {
  std::string out;
  switch (v.kind) {
    case Kind::None: out = "None"; break;
    case Kind::Bool: out = v.boolean ? "True" : "False"; break;
    case Kind::Int: out = std::to_string(v.integer); break;
    case Kind::BigInt: out = str_cat("an int of ", v.text.size(), " bytes"); break;
    case Kind::Float: out = str_cat("the float ", v.real); break;
    case Kind::String: out = quoted(v.text, max_chars > 2 ? max_chars - 2 : 1); break;
    case Kind::Bytes: out = str_cat("bytes of length ", v.text.size()); break;
    case Kind::Tuple: out = str_cat("a tuple of ", v.items.size()); break;
    case Kind::List: out = str_cat("a list of ", v.items.size()); break;
    case Kind::Dict: out = str_cat("a dict of ", v.entries.size(), " entries"); break;
    case Kind::Global: out = str_cat("the global '", v.text, ".", v.name, "'"); break;
    case Kind::Opaque: out = str_cat("a ", v.text, v.name.empty() ? "" : " ", v.name); break;
  }
  if (out.size() > max_chars) out = out.substr(0, max_chars) + "...";
  return out;
}

const Value* dict_get(const Value& dict, std::string_view key) {
  if (!dict.is(Kind::Dict)) return nullptr;
  for (auto it = dict.entries.rbegin(); it != dict.entries.rend(); ++it)
    if (it->first->is(Kind::String) && it->first->text == key) return it->second;
  return nullptr;
}

// ---------------------------------------------------------------- Unpickler

Unpickler::Unpickler(std::string_view input, std::string source, UnpickleHooks hooks, Limits limits)
    : in_(input), source_(std::move(source)), hooks_(std::move(hooks)), limits_(limits) {}

void Unpickler::fail(const std::string& what) const {
  const char* name = op_name(op_);
  throw Error(str_cat("pickle '", source_, "' at byte ", op_pos_, name ? str_cat(" (", name, ")") : "", ": ", what));
}

Value* Unpickler::make(Kind kind) {
  if (values_.size() >= limits_.max_values) fail(str_cat("more than ", limits_.max_values, " values"));
  values_.emplace_back();
  values_.back().kind = kind;
  return &values_.back();
}

std::uint8_t Unpickler::read_u8() {
  if (pos_ >= in_.size()) fail("the input ends inside the opcode's argument (truncated)");
  return static_cast<std::uint8_t>(in_[pos_++]);
}

std::string_view Unpickler::read_bytes(std::uint64_t n, const char* what) {
  if (n > in_.size() - pos_)
    fail(str_cat(what, " of ", n, " bytes runs past the end of the input (", in_.size() - pos_, " bytes left)"));
  std::string_view out = in_.substr(pos_, n);
  pos_ += n;
  return out;
}

std::uint64_t Unpickler::read_uint(int bytes) {
  std::string_view b = read_bytes(bytes, "an argument");
  std::uint64_t v = 0;
  for (int i = bytes; i-- > 0;) v = (v << 8) | static_cast<unsigned char>(b[i]);
  return v;
}

std::string_view Unpickler::read_line() {
  constexpr std::size_t kMaxLine = 256;  // module and class names are short
  const std::size_t end = in_.find('\n', pos_);
  if (end == std::string_view::npos) fail("no newline ends the module or class name (truncated)");
  if (end - pos_ > kMaxLine) fail(str_cat("a module or class name longer than ", kMaxLine, " bytes"));
  std::string_view line = in_.substr(pos_, end - pos_);
  pos_ = end + 1;
  return line;
}

void Unpickler::push(Value* v) {
  if (!v) fail("a hook returned no value");
  if (stack_.size() >= limits_.max_stack) fail(str_cat("more than ", limits_.max_stack, " values on the stack"));
  stack_.push_back(v);
}

Value* Unpickler::pop() {
  const std::size_t floor = marks_.empty() ? 0 : marks_.back();
  if (stack_.size() <= floor) fail("the stack is empty (above the last MARK)");
  Value* v = stack_.back();
  stack_.pop_back();
  return v;
}

Value* Unpickler::top() {
  const std::size_t floor = marks_.empty() ? 0 : marks_.back();
  if (stack_.size() <= floor) fail("the stack is empty (above the last MARK)");
  return stack_.back();
}

std::vector<Value*> Unpickler::pop_to_mark() {
  if (marks_.empty()) fail("no MARK to pop to");
  const std::size_t at = marks_.back();
  marks_.pop_back();
  std::vector<Value*> out(stack_.begin() + static_cast<std::ptrdiff_t>(at), stack_.end());
  stack_.resize(at);
  return out;
}

void Unpickler::memo_put(std::uint64_t index, Value* v) {
  if (memo_.size() >= limits_.max_memo && !memo_.count(index))
    fail(str_cat("more than ", limits_.max_memo, " memo entries"));
  memo_[index] = v;
}

Value* Unpickler::memo_get(std::uint64_t index) {
  auto it = memo_.find(index);
  if (it == memo_.end()) fail(str_cat("memo entry ", index, " was never stored"));
  return it->second;
}

Value* Unpickler::make_string(std::string_view bytes, Kind kind) {
  if (kind == Kind::String && !valid_utf8(bytes)) fail(str_cat("a string that is not valid UTF-8: ", quoted(bytes, 40)));
  Value* v = make(kind);
  v->text.assign(bytes);
  return v;
}

// Python's LONG encoding: little-endian two's complement, minimal length.
Value* Unpickler::make_long(std::string_view le) {
  std::size_t n = le.size();
  // Drop sign-extension bytes so that values inside int64 become Int.
  while (n > 8) {
    const unsigned char last = static_cast<unsigned char>(le[n - 1]), below = static_cast<unsigned char>(le[n - 2]);
    if ((last == 0x00 && !(below & 0x80)) || (last == 0xff && (below & 0x80))) --n;
    else break;
  }
  if (n > 8) {
    Value* v = make(Kind::BigInt);
    v->text.assign(le.substr(0, n));
    return v;
  }
  std::uint64_t u = 0;
  for (std::size_t i = n; i-- > 0;) u = (u << 8) | static_cast<unsigned char>(le[i]);
  if (n > 0 && n < 8 && (static_cast<unsigned char>(le[n - 1]) & 0x80)) u |= ~std::uint64_t{0} << (8 * n);
  Value* v = make(Kind::Int);
  v->integer = static_cast<std::int64_t>(u);
  return v;
}

Value* Unpickler::make_global(std::string module, std::string name) {
  for (const std::string* s : {&module, &name})
    for (char c : *s)
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
        fail(str_cat("a global name with control characters: ", quoted(module + "." + name, 80)));
  if (module.empty() || name.empty()) fail(str_cat("an empty module or class name: ", quoted(module + "." + name, 80)));
  if (!hooks_.allow_global || !hooks_.allow_global(module, name))
    fail(str_cat("the global '", module, ".", name, "' is not allowed: this reader loads only plain data and the "
                 "globals of PyTorch state_dicts, and never runs code",
                 hooks_.refused_global_hint.empty() ? "" : "; ", hooks_.refused_global_hint));
  Value* v = make(Kind::Global);
  v->text = std::move(module);
  v->name = std::move(name);
  return v;
}

void Unpickler::set_items(Value& dict, const std::vector<Value*>& flat) {
  if (!dict.is(Kind::Dict)) fail(str_cat("expected a dict to set items in, got ", describe(dict)));
  if (flat.size() % 2) fail(str_cat("an odd number of values (", flat.size(), ") for key/value pairs"));
  for (std::size_t i = 0; i < flat.size(); i += 2) dict.entries.emplace_back(flat[i], flat[i + 1]);
}

Value* Unpickler::load() {
  if (stopped_ || pos_ != 0) fail("load() may be called only once");
  none_ = make(Kind::None);
  true_ = make(Kind::Bool);
  true_->boolean = true;
  false_ = make(Kind::Bool);
  empty_tuple_ = make(Kind::Tuple);
  while (!stopped_) {
    op_pos_ = pos_;
    op_ = 0;
    if (pos_ >= in_.size()) fail("the input ends before STOP (truncated)");
    op_ = static_cast<std::uint8_t>(in_[pos_++]);
    step(op_);
  }
  if (!marks_.empty()) fail(str_cat(marks_.size(), " MARKs are still open at STOP"));
  if (stack_.size() != 1) fail(str_cat("STOP expects exactly one value on the stack, found ", stack_.size()));
  return stack_.back();
}

void Unpickler::step(std::uint8_t op) {
  switch (op) {
    case PROTO: {
      const std::uint8_t version = read_u8();
      if (version < 2 || version > 5) fail(str_cat("protocol ", int(version), " is not supported (only 2 to 5)"));
      return;
    }
    case FRAME: {  // a buffering hint: check it and read on
      const std::uint64_t n = read_uint(8);
      if (n > in_.size() - pos_) fail(str_cat("a frame of ", n, " bytes runs past the end of the input"));
      return;
    }
    case STOP: stopped_ = true; return;
    case MARK:
      if (marks_.size() >= limits_.max_marks) fail(str_cat("more than ", limits_.max_marks, " nested MARKs"));
      marks_.push_back(stack_.size());
      return;
    case POP: pop(); return;
    case POP_MARK: pop_to_mark(); return;
    case DUP: push(top()); return;

    // ---- scalars
    case NONE: push(none_); return;
    case NEWTRUE: push(true_); return;
    case NEWFALSE: push(false_); return;
    case BININT: {
      Value* v = make(Kind::Int);
      v->integer = static_cast<std::int32_t>(static_cast<std::uint32_t>(read_uint(4)));
      push(v);
      return;
    }
    case BININT1:
    case BININT2: {
      Value* v = make(Kind::Int);
      v->integer = static_cast<std::int64_t>(read_uint(op == BININT1 ? 1 : 2));
      push(v);
      return;
    }
    case LONG1: push(make_long(read_bytes(read_u8(), "a LONG1 integer"))); return;
    case LONG4: {
      const std::int32_t n = static_cast<std::int32_t>(static_cast<std::uint32_t>(read_uint(4)));
      if (n < 0) fail(str_cat("a negative length ", n));
      push(make_long(read_bytes(static_cast<std::uint64_t>(n), "a LONG4 integer")));
      return;
    }
    case BINFLOAT: {
      std::string_view b = read_bytes(8, "a float");
      std::uint64_t bits = 0;
      for (char c : b) bits = (bits << 8) | static_cast<unsigned char>(c);  // big-endian
      Value* v = make(Kind::Float);
      v->real = std::bit_cast<double>(bits);
      push(v);
      return;
    }

    // ---- strings and bytes
    case SHORT_BINUNICODE: push(make_string(read_bytes(read_u8(), "a string"), Kind::String)); return;
    case BINUNICODE: push(make_string(read_bytes(read_uint(4), "a string"), Kind::String)); return;
    case BINUNICODE8: push(make_string(read_bytes(read_uint(8), "a string"), Kind::String)); return;
    case SHORT_BINSTRING: push(make_string(read_bytes(read_u8(), "a string"), Kind::String)); return;
    case BINSTRING: {
      const std::int32_t n = static_cast<std::int32_t>(static_cast<std::uint32_t>(read_uint(4)));
      if (n < 0) fail(str_cat("a negative length ", n));
      push(make_string(read_bytes(static_cast<std::uint64_t>(n), "a string"), Kind::String));
      return;
    }
    case SHORT_BINBYTES: push(make_string(read_bytes(read_u8(), "bytes"), Kind::Bytes)); return;
    case BINBYTES: push(make_string(read_bytes(read_uint(4), "bytes"), Kind::Bytes)); return;
    case BINBYTES8: push(make_string(read_bytes(read_uint(8), "bytes"), Kind::Bytes)); return;

    // ---- containers
    case EMPTY_TUPLE: push(empty_tuple_); return;
    case EMPTY_LIST: push(make(Kind::List)); return;
    case EMPTY_DICT: push(make(Kind::Dict)); return;
    case TUPLE1:
    case TUPLE2:
    case TUPLE3: {
      const std::size_t n = op - TUPLE1 + 1;
      Value* v = make(Kind::Tuple);
      v->items.resize(n);
      for (std::size_t i = n; i-- > 0;) v->items[i] = pop();
      push(v);
      return;
    }
    case TUPLE:
    case LIST: {
      Value* v = make(op == TUPLE ? Kind::Tuple : Kind::List);
      v->items = pop_to_mark();
      push(v);
      return;
    }
    case DICT: {
      Value* v = make(Kind::Dict);
      set_items(*v, pop_to_mark());
      push(v);
      return;
    }
    case APPEND: {
      Value* item = pop();
      Value* list = top();
      if (!list->is(Kind::List)) fail(str_cat("expected a list to append to, got ", describe(*list)));
      list->items.push_back(item);
      return;
    }
    case APPENDS: {
      std::vector<Value*> items = pop_to_mark();
      Value* list = top();
      if (!list->is(Kind::List)) fail(str_cat("expected a list to append to, got ", describe(*list)));
      list->items.insert(list->items.end(), items.begin(), items.end());
      return;
    }
    case SETITEM: {
      Value* value = pop();
      Value* key = pop();
      set_items(*top(), {key, value});
      return;
    }
    case SETITEMS: {
      std::vector<Value*> flat = pop_to_mark();
      set_items(*top(), flat);
      return;
    }

    // ---- memo
    case BINPUT: memo_put(read_u8(), top()); return;
    case LONG_BINPUT: memo_put(read_uint(4), top()); return;
    case MEMOIZE: memo_put(memo_.size(), top()); return;
    case BINGET: push(memo_get(read_u8())); return;
    case LONG_BINGET: push(memo_get(read_uint(4))); return;

    // ---- objects: only through the hooks
    case GLOBAL: {
      std::string module(read_line());
      std::string name(read_line());
      push(make_global(std::move(module), std::move(name)));
      return;
    }
    case STACK_GLOBAL: {
      Value* name = pop();
      Value* module = pop();
      if (!module->is(Kind::String) || !name->is(Kind::String))
        fail(str_cat("expected a module and a name (strings), got ", describe(*module), " and ", describe(*name)));
      push(make_global(module->text, name->text));
      return;
    }
    case REDUCE:
    case NEWOBJ: {
      Value* args = pop();
      Value* callable = pop();
      if (!callable->is(Kind::Global)) fail(str_cat("cannot call ", describe(*callable)));
      if (!args->is(Kind::Tuple))
        fail(str_cat("the arguments of '", callable->text, ".", callable->name, "' are ", describe(*args), ", not a tuple"));
      if (!hooks_.call) fail(str_cat("calling '", callable->text, ".", callable->name, "' is not supported"));
      push(hooks_.call(*this, *callable, *args));
      return;
    }
    case BUILD: {
      Value* state = pop();
      Value* obj = top();
      if (!hooks_.build) fail(str_cat("setting the state of ", describe(*obj), " is not supported"));
      hooks_.build(*this, *obj, *state);
      return;
    }
    case BINPERSID: {
      Value* pid = pop();
      if (!hooks_.persistent_load) fail("persistent ids are not supported here");
      push(hooks_.persistent_load(*this, *pid));
      return;
    }
    default: {
      const char* name = op_name(op);
      fail(name ? str_cat("opcode ", name, " is not supported")
                : str_cat("unknown or unsupported opcode 0x", "0123456789abcdef"[op >> 4], "0123456789abcdef"[op & 15],
                          (op >= 0x20 && op < 0x7f) ? str_cat(" ('", static_cast<char>(op), "')") : std::string()));
    }
  }
}

}  // namespace sceald::io::pickle
