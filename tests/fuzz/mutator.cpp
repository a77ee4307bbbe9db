#include "mutator.h"

#include <algorithm>
#include <array>

namespace dfs::fuzz {
namespace {

// XDR lengths, counts and discriminants are 32-bit words: these are the values that find
// off-by-one and overflow mistakes in them.
constexpr std::array<uint32_t, 12> kInterestingWords = {
    0, 1, 2, 3, 4, 16, 0x7f, 0xffff, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff};

}  // namespace

void Mutator::edit(std::vector<uint8_t>& m, const std::vector<uint8_t>& other) {
  switch (below(8)) {
    case 0:  // flip a bit
      if (!m.empty()) m[below(m.size())] ^= static_cast<uint8_t>(1u << below(8));
      break;
    case 1:  // a random byte
      if (!m.empty()) m[below(m.size())] = static_cast<uint8_t>(rng_());
      break;
    case 2:    // an interesting big-endian word, word-aligned as XDR is
    case 3: {  // (twice as likely: most fields are words)
      if (m.size() < 4) break;
      const size_t at = below(m.size() / 4) * 4;
      const uint32_t v = kInterestingWords[below(kInterestingWords.size())];
      for (int i = 0; i < 4; ++i)
        m[at + static_cast<size_t>(i)] = static_cast<uint8_t>(v >> (24 - 8 * i));
      break;
    }
    case 4: {  // insert 1..8 random bytes
      const size_t at = below(m.size() + 1);
      const size_t n = 1 + below(8);
      std::vector<uint8_t> bytes(n);
      for (auto& b : bytes)
        b = static_cast<uint8_t>(rng_());
      m.insert(m.begin() + static_cast<long>(at), bytes.begin(), bytes.end());
      break;
    }
    case 5: {  // delete a range
      if (m.empty()) break;
      const size_t at = below(m.size());
      const size_t n = 1 + below(std::min<size_t>(m.size() - at, 16));
      m.erase(m.begin() + static_cast<long>(at), m.begin() + static_cast<long>(at + n));
      break;
    }
    case 6: {  // duplicate a range (repeated operations, entries, fragments)
      if (m.empty()) break;
      const size_t at = below(m.size());
      const size_t n = 1 + below(std::min<size_t>(m.size() - at, 64));
      std::vector<uint8_t> copy(m.begin() + static_cast<long>(at),
                                m.begin() + static_cast<long>(at + n));
      const size_t to = below(m.size() + 1);
      m.insert(m.begin() + static_cast<long>(to), copy.begin(), copy.end());
      break;
    }
    default:  // cut short, or splice: the head of this input and the tail of another
      if (other.empty() || below(2) == 0) {
        m.resize(below(m.size() + 1));
      } else {
        const size_t keep = below(m.size() + 1);
        const size_t from = below(other.size());
        m.resize(keep);
        m.insert(m.end(), other.begin() + static_cast<long>(from), other.end());
      }
      break;
  }
}

std::vector<uint8_t> Mutator::mutate(const std::vector<uint8_t>& base,
                                     const std::vector<uint8_t>& other, size_t max_size) {
  std::vector<uint8_t> m = base;
  const size_t edits = 1 + below(4);
  for (size_t i = 0; i < edits; ++i)
    edit(m, other);
  if (m.size() > max_size) m.resize(max_size);
  return m;
}

}  // namespace dfs::fuzz
