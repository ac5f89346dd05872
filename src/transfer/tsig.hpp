// TSIG (RFC 8945) for zone transfers and NOTIFY, with ldns doing the HMAC: verifying a
// request's signature, signing each message of an answer in turn, and the client side that
// NOTIFY needs (sign a request, verify its answer). Time is passed in, never read here, but for
// the Time Signed of what TsigSigner signs: ldns stamps that from the wall clock itself.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace discodns::transfer {

struct TsigKey {
  std::string name;  // key name in text, e.g. "xfr-key." (case-insensitive)
  // hmac-sha256, hmac-sha512 or hmac-sha1: the HMACs ldns 1.8 computes for TSIG (it looks
  // hmac-sha384 up under a misspelt name, so a key with that algorithm never signs or verifies).
  std::string algorithm = "hmac-sha256";
  std::string secret;  // base64, as `tsig-keygen` and `keymgr` print it
  bool operator==(const TsigKey&) const = default;
};

// RFC 8945 §5.2 error codes, as they go in the TSIG RR's Error field.
enum class TsigError : std::uint16_t { kNone = 0, kBadSig = 16, kBadKey = 17, kBadTime = 18 };

struct TsigCheck {
  bool present = false;  // the message carries a TSIG RR (the last record, unless malformed)
  // A TSIG RR that is not last, not the only one, or cut short, or a message that ends before
  // the records its header counts (present may then be false): FORMERR.
  bool malformed = false;
  TsigError error = TsigError::kNone;  // when present and not malformed
  std::vector<std::uint8_t> mac;       // the request's MAC: the answer's first MAC covers it
  std::string key_name;                // as the request named it, lower-cased text
  std::string algorithm;               // as the request named it, lower-cased text
};

// The TSIG of `message` checked against `key` at `now_s` (seconds since the epoch), with the
// fudge the request carries: a key name or algorithm that is not `key`'s is kBadKey; a MAC
// that does not verify, kBadSig; a time outside the fudge, kBadTime.
TsigCheck verify_request(std::span<const std::uint8_t> message, const TsigKey& key,
                         std::int64_t now_s);

// Room a TSIG RR takes at the end of a message: callers keep this much free.
inline constexpr std::size_t kTsigReserve = 512;

// Signs the messages of one answer (or of one request) in order (RFC 8945 §5.3.1): the first
// with the request's MAC (empty when signing a request), each later one with the previous
// message's MAC and the timers only.
class TsigSigner {
 public:
  TsigSigner(TsigKey key, std::vector<std::uint8_t> request_mac);
  // Appends the TSIG RR to the `size`-byte message at the start of `buffer`, which has room for
  // it (kTsigReserve past `size`); returns the signed message's size, 0 when signing failed.
  std::size_t sign(std::span<std::uint8_t> buffer, std::size_t size, std::int64_t now_s);
  // The MAC of the last message signed (a NOTIFY's: its answer is verified against it).
  const std::vector<std::uint8_t>& last_mac() const { return mac_; }

 private:
  TsigKey key_;
  std::vector<std::uint8_t> mac_;
  bool first_ = true;
};

// An error answer's TSIG RR (RFC 8945 §5.3.2): unsigned (empty MAC), naming the request's key
// and algorithm, with `error` (BADKEY, BADSIG) or, for BADTIME, our time as Other Data.
// Appended to the `size`-byte answer in `buffer`; returns the new size, 0 if it does not fit.
std::size_t append_error_tsig(std::span<std::uint8_t> buffer, std::size_t size,
                              const TsigCheck& request, std::uint16_t original_id,
                              std::int64_t now_s);

// The answer to a request we signed (a NOTIFY): kNone when it carries a TSIG by `key` that
// verifies against `request_mac`.
TsigError verify_response(std::span<const std::uint8_t> message, const TsigKey& key,
                          std::span<const std::uint8_t> request_mac, std::int64_t now_s);

}  // namespace discodns::transfer
