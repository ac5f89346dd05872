#include "wire/names.hpp"

#include <iterator>

#include "wire/types.hpp"

namespace discodns::wire {
namespace {

// The codes kRcodeNames and kQtypeNames name, in their order; "other" comes after.
constexpr std::uint8_t kNamedRcodes[] = {rcode::kNoError,  rcode::kFormErr, rcode::kServFail,
                                         rcode::kNxDomain, rcode::kNotImp,  rcode::kRefused,
                                         rcode::kBadVers};
constexpr std::uint16_t kNamedQtypes[] = {type::kA,   type::kAaaa, type::kSrv, type::kTxt,
                                          type::kSoa, type::kNs,   type::kAny};
static_assert(std::size(kNamedRcodes) + 1 == std::size(kRcodeNames));
static_assert(std::size(kNamedQtypes) + 1 == std::size(kQtypeNames));

// A few codes, looked through in order: the common ones (NOERROR, A) come first.
template <class Code, std::size_t N>
std::size_t index_of(const Code (&codes)[N], Code code) {
  for (std::size_t i = 0; i < N; ++i) {
    if (codes[i] == code) return i;
  }
  return N;
}

}  // namespace

std::size_t rcode_index(std::uint8_t rcode) {
  return index_of(kNamedRcodes, rcode);
}

std::size_t qtype_index(std::uint16_t qtype) {
  return index_of(kNamedQtypes, qtype);
}

}  // namespace discodns::wire
