#include <gtest/gtest.h>

#include "engine/data/expressions.h"

using namespace sceald::data;

TEST(Expressions, CanonicalOrderAndSynonyms) {
  EXPECT_EQ(kExpressionNames[0], "surprise");
  EXPECT_EQ(kExpressionNames[6], "neutral");
  EXPECT_EQ(kExpressionWords[3], "happy");
  EXPECT_EQ(expression_from_name("Angry"), 5);
  EXPECT_EQ(expression_from_name("anger"), 5);
  EXPECT_EQ(expression_from_name("HAPPINESS"), 3);
  EXPECT_EQ(expression_from_name("surprised"), 0);
  EXPECT_EQ(expression_from_name("fearful"), 1);
  EXPECT_EQ(expression_from_name("disgusted"), 2);
  EXPECT_EQ(expression_from_name("sad"), 4);
  EXPECT_EQ(expression_from_name("neutral"), 6);
  EXPECT_FALSE(expression_from_name("contempt"));
  EXPECT_FALSE(expression_from_name(""));
}
