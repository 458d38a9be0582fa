#include "engine/io/pickle.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "engine/error.h"

namespace sceald::io::pickle {
namespace {

using ::testing::HasSubstr;
using Kind = Value::Kind;

std::string from_hex(const std::string& hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) out += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  return out;
}

// Made by CPython 3.11:
//   l = [7]
//   obj = {'ints': [0, 1, -1, 255, 256, 65535, 65536, -70000, 2**31-1, -2**31, 2**40, 2**63-1, -2**63],
//          'big': [2**63, -2**63-1, 2**64], 'f': [3.5, -0.0, 1e300], 's': ['x', 'ünï€𝄞', ''],
//          't': [(), (1,), (1, 2), (1, 2, 3), (1, 2, 3, 4)], 'n': [None, True, False],
//          'shared': (l, l), 'd': {'k': {}}}
//   pickle.dumps(obj, protocol=2).hex() and protocol=4 (3 and 5 differ only in the PROTO byte).
const std::string kProtocol2 = from_hex(
    "80027d7100285804000000696e747371015d7102284b004b014affffffff4bff4d00014dffff4a000001004a90eefeff4aff"
    "ffff7f4a000000808a060000000000018a08ffffffffffffff7f8a08000000000000008065580300000062696771035d7104"
    "288a090000000000000080008a09ffffffffffffff7fff8a090000000000000000016558010000006671055d71062847400c"
    "000000000000478000000000000000477e37e43c8800759c6558010000007371075d7108285801000000787109580c000000"
    "c3bc6ec3afe282acf09d849e710a5800000000710b65580100000074710c5d710d28294b0185710e4b014b0286710f4b014b"
    "024b03877110284b014b024b034b047471116558010000006e71125d7113284e888965580600000073686172656471145d71"
    "154b0761681586711658010000006471177d711858010000006b71197d711a73752e");
const std::string kProtocol4 = from_hex(
    "8004950d010000000000007d94288c04696e7473945d94284b004b014affffffff4bff4d00014dffff4a000001004a90eefe"
    "ff4affffff7f4a000000808a060000000000018a08ffffffffffffff7f8a080000000000000080658c03626967945d94288a"
    "090000000000000080008a09ffffffffffffff7fff8a09000000000000000001658c0166945d942847400c00000000000047"
    "8000000000000000477e37e43c8800759c658c0173945d94288c0178948c0cc3bc6ec3afe282acf09d849e948c0094658c01"
    "74945d9428294b0185944b014b0286944b014b024b038794284b014b024b034b047494658c016e945d94284e8889658c0673"
    "6861726564945d944b0761681586948c0164947d948c016b947d9473752e");

std::string with_protocol(std::string p, int version) {
  p[1] = static_cast<char>(version);
  return p;
}

std::vector<std::string> all_protocols() {
  return {kProtocol2, with_protocol(kProtocol2, 3), kProtocol4, with_protocol(kProtocol4, 5)};
}

// The message of the sceald::Error that unpickling `bytes` throws.
std::string error_of(const std::string& bytes, UnpickleHooks hooks = {}, Limits limits = {}) {
  try {
    Unpickler u(bytes, "test.pkl", std::move(hooks), limits);
    u.load();
  } catch (const Error& e) {
    std::string msg = e.what();
    EXPECT_THAT(msg, HasSubstr("pickle 'test.pkl' at byte"));
    return msg;
  }
  ADD_FAILURE() << "expected an error for a pickle of " << bytes.size() << " bytes";
  return "";
}

std::vector<std::int64_t> ints_of(const Value& list) {
  std::vector<std::int64_t> out;
  for (const Value* v : list.items) {
    EXPECT_EQ(v->kind, Kind::Int);
    out.push_back(v->integer);
  }
  return out;
}

TEST(Pickle, ReadsCPythonPicklesOfEveryProtocol) {
  for (const std::string& bytes : all_protocols()) {
    SCOPED_TRACE(testing::Message() << "protocol " << int(bytes[1]));
    Unpickler u(bytes, "test.pkl");
    const Value* root = u.load();
    EXPECT_EQ(u.consumed(), bytes.size());
    ASSERT_EQ(root->kind, Kind::Dict);
    ASSERT_EQ(root->entries.size(), 8u);
    EXPECT_EQ(root->entries[0].first->text, "ints");  // insertion order kept

    EXPECT_EQ(ints_of(*dict_get(*root, "ints")),
              (std::vector<std::int64_t>{0, 1, -1, 255, 256, 65535, 65536, -70000, 2147483647, -2147483648LL,
                                         1LL << 40, INT64_MAX, INT64_MIN}));
    const Value& big = *dict_get(*root, "big");
    ASSERT_EQ(big.items.size(), 3u);
    for (const Value* v : big.items) EXPECT_EQ(v->kind, Kind::BigInt);
    EXPECT_EQ(big.items[0]->text, std::string("\x00\x00\x00\x00\x00\x00\x00\x80\x00", 9));  // 2**63
    EXPECT_EQ(big.items[2]->text, std::string("\x00\x00\x00\x00\x00\x00\x00\x00\x01", 9));  // 2**64

    const Value& f = *dict_get(*root, "f");
    EXPECT_EQ(f.items[0]->real, 3.5);
    EXPECT_TRUE(f.items[1]->real == 0.0 && std::signbit(f.items[1]->real));
    EXPECT_EQ(f.items[2]->real, 1e300);

    const Value& s = *dict_get(*root, "s");
    EXPECT_EQ(s.items[0]->text, "x");
    EXPECT_EQ(s.items[1]->text, "\xc3\xbc" "n\xc3\xaf\xe2\x82\xac\xf0\x9d\x84\x9e");
    EXPECT_EQ(s.items[2]->text, "");

    const Value& t = *dict_get(*root, "t");
    for (std::size_t i = 0; i < 5; ++i) {
      ASSERT_EQ(t.items[i]->kind, Kind::Tuple);
      EXPECT_EQ(t.items[i]->items.size(), i);
      if (i > 0) EXPECT_EQ(ints_of(*t.items[i]).back(), static_cast<std::int64_t>(i));
    }

    const Value& n = *dict_get(*root, "n");
    EXPECT_EQ(n.items[0]->kind, Kind::None);
    EXPECT_TRUE(n.items[1]->is(Kind::Bool) && n.items[1]->boolean);
    EXPECT_TRUE(n.items[2]->is(Kind::Bool) && !n.items[2]->boolean);

    const Value& shared = *dict_get(*root, "shared");  // the memo gives both the same list
    ASSERT_EQ(shared.items.size(), 2u);
    EXPECT_EQ(shared.items[0], shared.items[1]);
    EXPECT_EQ(ints_of(*shared.items[0]), std::vector<std::int64_t>{7});

    const Value* inner = dict_get(*dict_get(*root, "d"), "k");
    ASSERT_NE(inner, nullptr);
    EXPECT_TRUE(inner->is(Kind::Dict) && inner->entries.empty());
    EXPECT_EQ(dict_get(*root, "absent"), nullptr);
  }
}

TEST(Pickle, BytesAndBackToBackPickles) {
  // pickle.dumps(b'yz\x00', protocol=3) twice in a row.
  const std::string one = from_hex("80034303797a0071002e");
  const std::string two = one + one;
  Unpickler first(two, "test.pkl");
  const Value* v = first.load();
  ASSERT_EQ(v->kind, Kind::Bytes);
  EXPECT_EQ(v->text, std::string("yz\0", 3));
  EXPECT_EQ(first.consumed(), one.size());
  Unpickler second(std::string_view(two).substr(first.consumed()), "test.pkl");
  EXPECT_EQ(second.load()->text, std::string("yz\0", 3));
}

TEST(Pickle, GlobalsNeedTheAllowlistAndCallsNeedTheHook) {
  // GLOBAL 'os system', 'true', TUPLE1, REDUCE: the classic code-execution pickle.
  const std::string os_system = std::string("\x80\x02" "cos\nsystem\n" "X\x04\x00\x00\x00true" "\x85" "R.", 25);
  EXPECT_THAT(error_of(os_system), HasSubstr("the global 'os.system' is not allowed"));
  UnpickleHooks others;
  others.allow_global = [](const std::string& m, const std::string& n) { return m == "collections"; };
  EXPECT_THAT(error_of(os_system, others), HasSubstr("'os.system' is not allowed"));

  // Protocol 4 spells it STACK_GLOBAL.
  const std::string stacked = std::string("\x80\x04\x8c\x02os\x8c\x06system\x93)R.", 18);
  EXPECT_THAT(error_of(stacked), HasSubstr("the global 'os.system' is not allowed"));

  // Allowed, but with no call hook: still refused, and never run.
  UnpickleHooks all;
  all.allow_global = [](const std::string&, const std::string&) { return true; };
  EXPECT_THAT(error_of(os_system, all), HasSubstr("calling 'os.system' is not supported"));
}

TEST(Pickle, HooksBuildObjects) {
  // pickle.dumps(collections.OrderedDict(a=1), protocol=4)
  const std::string ordered = from_hex(
      "80049529000000000000008c0b636f6c6c656374696f6e73948c0b4f726465726564446963749493942952948c0161944b01732e");
  UnpickleHooks hooks;
  std::string called;
  hooks.allow_global = [](const std::string& m, const std::string& n) { return m == "collections" && n == "OrderedDict"; };
  hooks.call = [&](Unpickler& u, const Value& f, const Value& args) {
    called = f.text + "." + f.name;
    EXPECT_TRUE(args.is(Kind::Tuple) && args.items.empty());
    return u.make(Kind::Dict);
  };
  Unpickler u(ordered, "test.pkl", hooks);
  const Value* root = u.load();
  EXPECT_EQ(called, "collections.OrderedDict");
  ASSERT_TRUE(root->is(Kind::Dict));
  EXPECT_EQ(dict_get(*root, "a")->integer, 1);

  // BINPERSID and BUILD go to their hooks: ('storage', 3) BINPERSID, {} BUILD.
  const std::string persistent = std::string("\x80\x02(X\x07\x00\x00\x00storageK\x03tQ}b.", 22);
  UnpickleHooks p;
  p.persistent_load = [](Unpickler& u, const Value& pid) {
    Value* v = u.make(Kind::Opaque);
    v->text = pid.items.at(0)->text;
    v->integer = pid.items.at(1)->integer;
    return v;
  };
  int builds = 0;
  p.build = [&](Unpickler&, Value& obj, const Value& state) {
    ++builds;
    EXPECT_TRUE(state.is(Kind::Dict));
    obj.name = "built";
  };
  Unpickler pu(persistent, "test.pkl", p);
  const Value* v = pu.load();
  EXPECT_EQ(v->text, "storage");
  EXPECT_EQ(v->integer, 3);
  EXPECT_EQ(v->name, "built");
  EXPECT_EQ(builds, 1);
  EXPECT_THAT(error_of(persistent), HasSubstr("persistent ids are not supported"));
}

TEST(Pickle, EveryTruncationIsRejected) {
  for (const std::string& bytes : all_protocols())
    for (std::size_t n = 0; n < bytes.size(); ++n) {
      try {
        Unpickler u(std::string_view(bytes).substr(0, n), "test.pkl");
        u.load();
        ADD_FAILURE() << "a pickle cut to " << n << " bytes loaded";
      } catch (const Error&) {
      }
    }
  EXPECT_THAT(error_of(std::string("\x80\x02X\x05\x00\x00\x00" "ab", 9)), HasSubstr("runs past the end of the input"));
  EXPECT_THAT(error_of(std::string("\x80\x02", 2)), HasSubstr("ends before STOP"));
}

TEST(Pickle, LengthsAreCheckedAgainstTheInput) {
  EXPECT_THAT(error_of(std::string("\x80\x02X\xff\xff\xff\xff.", 8)), HasSubstr("4294967295 bytes runs past the end"));
  EXPECT_THAT(error_of(std::string("\x80\x04\x8d\xff\xff\xff\xff\xff\xff\xff\x7f.", 12)),
              HasSubstr("runs past the end"));
  EXPECT_THAT(error_of(std::string("\x80\x04\x8e\x00\x00\x00\x00\x00\x00\x00\x80.", 12)),
              HasSubstr("runs past the end"));
  EXPECT_THAT(error_of(std::string("\x80\x02\x8b\xff\xff\xff\xff.", 8)), HasSubstr("negative length"));
  EXPECT_THAT(error_of(std::string("\x80\x02T\xfe\xff\xff\xff.", 8)), HasSubstr("negative length"));
  EXPECT_THAT(error_of(std::string("\x80\x04\x95\x00\x00\x00\x00\x00\x01\x00\x00N.", 13)),
              HasSubstr("frame of"));
  EXPECT_THAT(error_of(std::string("\x80\x02" "cos\nsyst", 10)), HasSubstr("no newline"));
  EXPECT_THAT(error_of("\x80\x02" "c" + std::string(300, 'a') + "\nb\n."), HasSubstr("longer than 256"));
}

TEST(Pickle, StackMarkAndMemoMisuseIsRejected) {
  EXPECT_THAT(error_of(std::string("\x80\x02" "a.", 4)), HasSubstr("stack is empty"));
  EXPECT_THAT(error_of(std::string("\x80\x02K\x01t.", 6)), HasSubstr("no MARK"));
  EXPECT_THAT(error_of(std::string("\x80\x02" "]K\x01(a.", 7)), HasSubstr("stack is empty (above the last MARK)"));
  EXPECT_THAT(error_of(std::string("\x80\x02" "h\x05.", 5)), HasSubstr("memo entry 5 was never stored"));
  EXPECT_THAT(error_of(std::string("\x80\x02" "j\xff\xff\xff\xff.", 8)), HasSubstr("memo entry 4294967295"));
  EXPECT_THAT(error_of(std::string("\x80\x02" "NN.", 5)), HasSubstr("exactly one value"));
  EXPECT_THAT(error_of(std::string("\x80\x02" "(N.", 5)), HasSubstr("MARKs are still open"));
  EXPECT_THAT(error_of(std::string("\x80\x02" "NNK\x01s.", 8)), HasSubstr("expected a dict"));
  EXPECT_THAT(error_of(std::string("\x80\x02" "}(K\x01u.", 7)), HasSubstr("odd number"));
  EXPECT_THAT(error_of(std::string("\x80\x02" "K\x01" ")R.", 7)), HasSubstr("cannot call 1"));
  // A huge memo index is fine: the memo is sparse.
  const std::string sparse("\x80\x02" "Nr\xff\xff\xff\xff" "0j\xff\xff\xff\xff.", 15);
  Unpickler u(sparse, "test.pkl");
  EXPECT_TRUE(u.load()->is(Kind::None));
}

TEST(Pickle, LimitsAreEnforced) {
  Limits small;
  small.max_marks = 8;
  EXPECT_THAT(error_of("\x80\x02" + std::string(9, '('), {}, small), HasSubstr("more than 8 nested MARKs"));
  small.max_stack = 4;
  EXPECT_THAT(error_of("\x80\x02" + std::string(5, 'N'), {}, small), HasSubstr("more than 4 values on the stack"));
  small.max_memo = 2;
  EXPECT_THAT(error_of(std::string("\x80\x02N\x94\x94\x94.", 7), {}, small), HasSubstr("more than 2 memo entries"));
  small = Limits{};
  small.max_values = 10;  // 4 singletons + 6
  EXPECT_THAT(error_of("\x80\x02" + std::string(7, ']'), {}, small), HasSubstr("more than 10 values"));
  // Deep nesting by TUPLE1 needs no MARK: it is bounded by the value count.
  std::string deep = "\x80\x02N";
  for (int i = 0; i < 100000; ++i) deep += '\x85';
  deep += '.';
  Unpickler u(deep, "test.pkl");
  EXPECT_TRUE(u.load()->is(Kind::Tuple));
}

TEST(Pickle, BadOpcodesProtocolsAndStringsAreRejected) {
  EXPECT_THAT(error_of(std::string("\x80\x02I1\n.", 6)), HasSubstr("unknown or unsupported opcode 0x49 ('I')"));
  EXPECT_THAT(error_of(std::string("\x80\x06N.", 4)), HasSubstr("protocol 6 is not supported"));
  EXPECT_THAT(error_of(std::string("\x80\x01N.", 4)), HasSubstr("protocol 1 is not supported"));
  EXPECT_THAT(error_of(std::string("\x80\x02X\x02\x00\x00\x00\xc3\x28.", 10)), HasSubstr("not valid UTF-8"));
  EXPECT_THAT(error_of(std::string("\x80\x02X\x02\x00\x00\x00\xc0\x80.", 10)), HasSubstr("not valid UTF-8"));  // overlong
  EXPECT_THAT(error_of(std::string("\x80\x02X\x01\x00\x00\x00\xe2.", 9)), HasSubstr("not valid UTF-8"));
  EXPECT_THAT(error_of(std::string("\x80\x04\x8c\x01" "a" "\x8c\x00\x93.", 9)), HasSubstr("empty module or class name"));
  EXPECT_THAT(error_of(std::string("\x80\x04K\x01K\x02\x93.", 8)), HasSubstr("expected a module and a name"));
}

TEST(Pickle, CyclesLoadAndDescribeStaysBounded) {
  // A list appended to itself: l = []; l.append(l).
  const std::string cycle("\x80\x02]q\x00h\x00" "a.", 9);
  Unpickler u(cycle, "test.pkl");
  const Value* l = u.load();
  ASSERT_TRUE(l->is(Kind::List));
  ASSERT_EQ(l->items.size(), 1u);
  EXPECT_EQ(l->items[0], l);
  EXPECT_EQ(describe(*l), "a list of 1");
  Value s;
  s.kind = Kind::String;
  s.text = std::string(500, 'x') + "\n";
  EXPECT_LE(describe(s, 50).size(), 53u);
}

TEST(Pickle, RandomByteFlipsNeverCrash) {
  std::mt19937 rng(7);
  UnpickleHooks permissive;  // hooks that accept anything, to reach deeper paths
  permissive.allow_global = [](const std::string&, const std::string&) { return true; };
  permissive.call = [](Unpickler& u, const Value&, const Value&) { return u.make(Kind::None); };
  permissive.build = [](Unpickler&, Value&, const Value&) {};
  permissive.persistent_load = [](Unpickler& u, const Value&) { return u.make(Kind::None); };
  int loaded = 0, rejected = 0;
  for (const std::string& original : all_protocols())
    for (int trial = 0; trial < 1500; ++trial) {
      std::string bytes = original;
      const int flips = 1 + static_cast<int>(rng() % 3);
      for (int k = 0; k < flips; ++k) bytes[rng() % bytes.size()] = static_cast<char>(rng() & 0xff);
      try {
        Unpickler u(bytes, "test.pkl", trial % 2 ? permissive : UnpickleHooks{});
        u.load();
        ++loaded;
      } catch (const Error&) {
        ++rejected;
      }
    }
  EXPECT_GT(rejected, 0);
  EXPECT_GT(loaded, 0);
}

}  // namespace
}  // namespace sceald::io::pickle
