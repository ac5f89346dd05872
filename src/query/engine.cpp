// How one query is answered, top to bottom: parse (wire/message) -> pick the response size
// limit -> header and question -> lookup -> answer / negative / referral / error -> OPT.
// Everything is written into the caller's buffer; nothing is allocated.
#include "query/engine.hpp"

#include <algorithm>

#include "catalog/snapshot.hpp"
#include "query/identity.hpp"
#include "query/opt.hpp"
#include "wire/bytes.hpp"
#include "wire/message.hpp"
#include "wire/name.hpp"

namespace discodns::query {

static_assert(kNoRegion == catalog::kNoRegion);
namespace {

using catalog::kNone;
using catalog::Node;
using catalog::Record;
using catalog::RRset;
using catalog::Snapshot;
namespace type = wire::type;
namespace rcode = wire::rcode;

constexpr std::size_t kMaxTargets = 64;  // SRV/NS targets whose addresses we try to add

// An additional-section candidate: a node whose A/AAAA follow, and where its name already
// sits in the packet (so its owner is one compression pointer), or 0 to write it in full.
struct Target {
  const catalog::Block* block;
  std::uint32_t node;
  std::uint16_t name_offset;
};

class Responder {
 public:
  Responder(std::span<const std::uint8_t> query, const Snapshot& snap, common::Nanos now,
            const Limits& limits, const QueryContext& ctx, std::span<std::uint8_t> out)
      : query_(query),
        snap_(snap),
        now_(now),
        limits_(limits),
        ctx_(ctx),
        out_(out),
        w_(out, wire::kMaxNameLength) {}

  Outcome run() {
    wire::ParseStatus status = wire::parse_query(query_, q_);
    if (status == wire::ParseStatus::kDrop) return {};
    outcome_.qtype = q_.qtype;
    w_ = wire::Writer(out_, response_limit());
    // has_opt is false when the OPT itself was the problem (parse_query, RFC 6891 §7).
    if (status == wire::ParseStatus::kFormErr) return error(rcode::kFormErr, q_.has_opt);
    // We are nobody's secondary: a NOTIFY is refused (RFC 1996 §3.10 leaves it to policy).
    if (status == wire::ParseStatus::kNotImp)
      return error(q_.opcode == wire::opcode::kNotify ? rcode::kRefused : rcode::kNotImp,
                   q_.has_opt);
    if (status == wire::ParseStatus::kBadVers) return error(rcode::kBadVers, true);
    // RFC 7873 §5.4: the header and an OPT with the client and our server cookie.
    if (status == wire::ParseStatus::kCookieOnly) return error(rcode::kNoError, true);
    return answer();
  }

 private:
  // UDP: 512 without EDNS; otherwise the client's size, at least 512, at most ours
  // (RFC 6891 §6.2.5). TCP: the whole message.
  std::size_t response_limit() const {
    if (ctx_.transport == Transport::kTcp) return kMaxResponseSize;
    if (!q_.has_opt) return wire::kMinUdpPayload;
    std::size_t asked = std::max<std::size_t>(q_.udp_payload, wire::kMinUdpPayload);
    return std::min<std::size_t>(
        asked, std::max<std::size_t>(limits_.our_payload_size, wire::kMinUdpPayload));
  }

  // Header with QR set, the query's ID, opcode, RD and CD; counts filled in at the end.
  void write_header_and_question(bool with_question) {
    std::uint16_t flags =
        wire::flag::kQr | (q_.flags & (0x7800 | wire::flag::kRd | wire::flag::kCd));
    w_.u16(q_.id);
    w_.u16(flags);
    w_.u16(with_question ? 1 : 0);
    w_.u16(0);
    w_.u16(0);
    w_.u16(0);
    if (with_question) w_.bytes(query_.data() + wire::kHeaderSize, q_.question_length);
  }

  Outcome error(std::uint8_t code, bool with_opt) {
    bool with_question = q_.question_length != 0;
    write_header_and_question(with_question);
    if (with_opt) write_opt(code);
    return finish(code);
  }

  Outcome answer() {
    outcome_.signed_query = q_.has_tsig;
    with_opt_ = q_.has_opt;
    if (with_opt_) w_.reserve_tail(opt_size(q_, limits_, ctx_));
    write_header_and_question(true);
    if (w_.failed()) return {};  // cannot happen: a parsed question fits in 512
    std::uint8_t code = resolve();
    if (with_opt_) {
      w_.release_tail(opt_size(q_, limits_, ctx_));
      write_opt(code);
    }
    return finish(code);
  }

  std::uint8_t resolve() {
    std::string_view qname(q_.qname_lower.data(), q_.qname_length);
    if (q_.qclass == wire::klass::kCh) return chaos(qname);
    if (q_.qclass != wire::klass::kIn && q_.qclass != wire::klass::kAny) return rcode::kRefused;
    if (!wire::is_at_or_below(qname, snap_.apex)) return rcode::kRefused;
    if (q_.qtype == type::kAxfr || q_.qtype == type::kIxfr) return transfer(qname);
    if (q_.qtype == type::kMaila || q_.qtype == type::kMailb) return rcode::kNotImp;

    for (const auto& cut : snap_.cuts) {
      // Below a delegation from the zone file (the DS at the cut itself is ours to answer).
      if (wire::is_at_or_below(qname, cut) && !(qname == cut && q_.qtype == type::kDs)) {
        return referral(cut);
      }
    }
    Snapshot::Found found = snap_.find(qname);
    region_ = snap_.region_of(qname);
    if (found.block != snap_.zone.get() && too_stale()) {
      return rcode::kServFail;  // never let a registry outage look like NXDOMAIN
    }
    set_flag(wire::flag::kAa);
    if (found.block == nullptr) {
      // Could be appid.env.zone.region of an app registered since the last fetch: say so.
      if (region_.index != catalog::kNoRegion && region_.labels_below >= 3) {
        outcome_.miss_region = region_.index;
      }
      negative(found.block);
      return found.empty ? rcode::kNoError : rcode::kNxDomain;
    }
    const catalog::Block& block = *found.block;
    const Node& node = block.nodes[found.node];
    const RRset* set = nullptr;
    if (q_.qtype == type::kAny) {
      // RFC 8482 §4.2: answer with one RRset rather than all of them.
      if (node.rrset_count > 0) set = &block.rrsets[node.first_rrset];
    } else {
      set = block.rrset(node, q_.qtype);
    }
    if (set == nullptr) {
      negative(found.block);
      return rcode::kNoError;
    }
    std::size_t targets = 0;
    auto mark = w_.mark();
    if (!write_rrset(block, *set, 0xC000 | wire::kHeaderSize, ancount_, &targets)) {
      // RFC 2181 §9: never a partial RRset; TC tells the client to retry over TCP.
      w_.rollback(mark);
      ancount_ = 0;
      truncated_ = true;
      return rcode::kNoError;
    }
    write_additional(targets);
    return rcode::kNoError;
  }

  // CH TXT id.server. and friends when configured; any other CHAOS question is REFUSED, as
  // are all classes but IN and ANY.
  std::uint8_t chaos(std::string_view qname) {
    std::span<const std::uint8_t> text;
    if (q_.qtype == type::kTxt) text = chaos_text(qname, limits_);
    if (text.empty()) return rcode::kRefused;
    set_flag(wire::flag::kAa);
    auto mark = w_.mark();
    if (!write_chaos_txt(w_, text)) {
      w_.rollback(mark);
      truncated_ = true;
      return rcode::kNoError;
    }
    ++ancount_;
    return rcode::kNoError;
  }

  // Transfers go to transfer/ over TCP: what reaches here is refused, but for an IXFR of the
  // apex (RFC 1995 §2). A client at our serial or newer (RFC 1982) gets our SOA alone; over UDP
  // with transfers on, one behind us gets it too ("use TCP" to a client that reads the serial)
  // with TC set (the same, to one that reads the flag).
  std::uint8_t transfer(std::string_view qname) {
    if (q_.qtype != type::kIxfr || qname != snap_.apex || snap_.soa_rrset == kNone)
      return rcode::kRefused;
    const bool up_to_date =
        q_.has_ixfr_soa && static_cast<std::int32_t>(q_.ixfr_serial - snap_.serial) >= 0;
    if (!up_to_date && !(limits_.transfers && ctx_.transport == Transport::kUdp))
      return rcode::kRefused;
    set_flag(wire::flag::kAa);
    const catalog::Block& zone = *snap_.zone;
    std::size_t none = kMaxTargets;
    auto mark = w_.mark();
    truncated_ = !up_to_date;
    if (!write_rrset(zone, zone.rrsets[snap_.soa_rrset], 0xC000 | wire::kHeaderSize, ancount_,
                     &none)) {
      w_.rollback(mark);
      ancount_ = 0;
      truncated_ = true;
    }
    return rcode::kNoError;
  }

  // NXDOMAIN / NODATA: the apex SOA in authority, with the negative TTL (RFC 2308 §3); at or
  // below a registry region (unless at a static name) no more than ttl.negative_s, so that an
  // app registered a moment later is not hidden behind a cached miss for long.
  void negative(const catalog::Block* found) {
    if (snap_.soa_rrset == kNone) return;
    const catalog::Block& zone = *snap_.zone;
    const RRset& soa = zone.rrsets[snap_.soa_rrset];
    std::size_t apex_offset = wire::kHeaderSize + q_.qname_length - snap_.apex.size();
    std::uint32_t ttl = snap_.negative_ttl;
    if (found != &zone && region_.index != catalog::kNoRegion) {
      ttl = std::min(ttl, snap_.ttl.negative_s);
    }
    auto mark = w_.mark();
    if (!write_record(zone, soa, zone.records[soa.first_record],
                      static_cast<std::uint16_t>(0xC000 | apex_offset), ttl)) {
      w_.rollback(mark);
      truncated_ = true;
      return;
    }
    ++nscount_;
  }

  // Below a zone cut from the zone file: not authoritative; NS in authority, glue after.
  std::uint8_t referral(const std::string& cut) {
    const catalog::Block& zone = *snap_.zone;
    std::uint32_t index = zone.find(cut);
    const RRset* ns = index == kNone ? nullptr : zone.rrset(zone.nodes[index], type::kNs);
    std::size_t cut_offset = wire::kHeaderSize + q_.qname_length - cut.size();
    std::size_t targets = 0;
    auto mark = w_.mark();
    if (ns == nullptr || !write_rrset(zone, *ns, static_cast<std::uint16_t>(0xC000 | cut_offset),
                                      nscount_, &targets)) {
      w_.rollback(mark);
      nscount_ = 0;
      truncated_ = true;
      return rcode::kNoError;
    }
    write_additional(targets, cut);
    return rcode::kNoError;
  }

  bool too_stale() const {
    if (region_.index == catalog::kNoRegion) return false;
    const catalog::RegionState& region = snap_.regions[region_.index];
    return region.stale && now_ - region.last_good_ns > snap_.ttl.max_stale_ns;
  }

  // Writes a whole RRset whose owner is the 2-byte compression pointer `owner`, rotated by
  // the query's rotation; late instances are left out while fresh ones exist. Records the
  // additional-section targets. False when it does not fit (the caller rolls back).
  bool write_rrset(const catalog::Block& block, const RRset& set, std::uint16_t owner,
                   std::uint16_t& count, std::size_t* targets) {
    if (set.record_count == 0) return true;
    const Record* records = &block.records[set.first_record];
    Snapshot::RRsetView view = snap_.view(block, set, now_);
    unsigned cap =
        (set.type == type::kA || set.type == type::kAaaa) ? limits_.max_address_records : 0;
    unsigned written = 0;
    std::uint32_t start = ctx_.rotation % set.record_count;
    for (std::uint32_t k = 0; k < set.record_count; ++k) {
      const std::uint32_t index = (start + k) % set.record_count;
      if (!snap_.included(view, index)) continue;
      const Record& rec = records[index];
      if (cap != 0 && written == cap) break;
      std::size_t rdata_at = w_.size() + 12;
      if (!write_record(block, set, rec, owner, view.ttl)) return false;
      ++written;
      ++count;
      if (rec.target_node != catalog::kNoTarget && *targets < kMaxTargets &&
          !is_target(block, rec.target_node, *targets)) {
        std::size_t name_at = rdata_at + set.target_rdata_offset;
        targets_[(*targets)++] = {&block, rec.target_node,
                                  static_cast<std::uint16_t>(name_at < 0x4000 ? name_at : 0)};
      }
    }
    return true;
  }

  // Whether the first `targets` additional-section candidates hold this node already (two SRVs
  // of one host, on two ports): its addresses are written once (RFC 2181 §5).
  bool is_target(const catalog::Block& block, std::uint32_t node, std::size_t targets) const {
    for (std::size_t i = 0; i < targets; ++i) {
      if (targets_[i].block == &block && targets_[i].node == node) return true;
    }
    return false;
  }

  bool write_record(const catalog::Block& block, const RRset& set, const Record& rec,
                    std::uint16_t owner, std::uint32_t ttl) {
    std::string_view target = block.target_name(set, rec);
    w_.u16(owner);
    w_.u16(set.type);
    w_.u16(wire::klass::kIn);
    w_.u32(ttl);
    w_.u16(static_cast<std::uint16_t>(rec.rdata_length + target.size()));
    w_.bytes(block.rdata.data() + rec.rdata_offset, rec.rdata_length);
    if (!target.empty())
      w_.bytes(reinterpret_cast<const std::uint8_t*>(target.data()), target.size());
    return !w_.failed();
  }

  // Addresses of SRV/NS targets, whole RRsets only and never a reason for TC (RFC 2181 §9),
  // except in a referral below `cut`: the glue of name servers at or below the cut is
  // required (RFC 9471 §3), so it goes first and TC is set when it does not fit. Glue of
  // other (sibling) name servers is optional and may be dropped.
  void write_additional(std::size_t targets, std::string_view cut = {}) {
    if (!cut.empty() && !write_glue(targets, cut, /*in_domain=*/true)) {
      truncated_ = true;
      return;
    }
    write_glue(targets, cut, /*in_domain=*/false);
  }

  // Writes the A/AAAA RRsets of the targets that are (or are not) at or below `cut`; false
  // at the first that does not fit.
  bool write_glue(std::size_t targets, std::string_view cut, bool in_domain) {
    for (std::size_t i = 0; i < targets; ++i) {
      const catalog::Block& block = *targets_[i].block;
      std::uint32_t index = targets_[i].node;
      if (in_domain != (!cut.empty() && wire::is_at_or_below(block.name(index), cut))) continue;
      for (std::uint16_t t : {type::kA, type::kAaaa}) {
        const RRset* set = block.rrset(block.nodes[index], t);
        if (set == nullptr) continue;
        auto mark = w_.mark();
        std::uint16_t before = arcount_;
        std::size_t none = kMaxTargets;  // additional records add no further targets
        if (targets_[i].name_offset == 0 ||
            !write_rrset(block, *set, 0xC000 | targets_[i].name_offset, arcount_, &none)) {
          w_.rollback(mark);
          arcount_ = before;
          return false;
        }
      }
    }
    return true;
  }

  void write_opt(std::uint8_t code) {
    auto mark = w_.mark();
    if (query::write_opt(w_, code, q_, limits_, ctx_, now_)) {
      ++arcount_;
    } else {
      w_.rollback(mark);  // cannot happen (the room was reserved), but never half an OPT
    }
  }

  void set_flag(std::uint16_t f) { flags_extra_ |= f; }

  Outcome finish(std::uint8_t code) {
    if (w_.size() < wire::kHeaderSize) return {};
    std::uint8_t* h = w_.data();
    std::uint16_t flags = wire::read_u16(h + 2) | flags_extra_ | (code & 0xF);
    if (truncated_) flags |= wire::flag::kTc;
    wire::put_u16(h + 2, flags);
    wire::put_u16(h + 6, ancount_);
    wire::put_u16(h + 8, nscount_);
    wire::put_u16(h + 10, arcount_);
    outcome_.respond = true;
    outcome_.size = w_.size();
    outcome_.rcode = code;
    outcome_.truncated = truncated_;
    return outcome_;
  }

  std::span<const std::uint8_t> query_;
  const Snapshot& snap_;
  common::Nanos now_;
  const Limits& limits_;
  const QueryContext& ctx_;
  std::span<std::uint8_t> out_;
  wire::Writer w_;
  wire::QueryView q_;
  Outcome outcome_;
  bool with_opt_ = false;
  bool truncated_ = false;
  std::uint16_t flags_extra_ = 0;
  std::uint16_t ancount_ = 0;
  std::uint16_t nscount_ = 0;
  std::uint16_t arcount_ = 0;
  std::array<Target, kMaxTargets> targets_{};
  Snapshot::NameRegion region_;  // of the question's name
};

}  // namespace

Outcome answer(std::span<const std::uint8_t> query, const catalog::Snapshot& snapshot,
               common::Nanos now, const Limits& limits, const QueryContext& context,
               std::span<std::uint8_t> out) noexcept {
  Responder responder(query, snapshot, now, limits, context, out);
  return responder.run();
}

}  // namespace discodns::query
