#include "catalog/zone_records.hpp"

#include "wire/bytes.hpp"
#include "wire/types.hpp"

namespace discodns::catalog {

void zone_records(const Snapshot& snapshot, const Block& block, std::uint32_t synthesized_ttl,
                  std::vector<ZoneRecord>& out) {
  out.clear();
  const bool zone_block = &block == snapshot.zone.get();
  for (std::uint32_t n = 0; n < block.nodes.size(); ++n) {
    const Node& node = block.nodes[n];
    const std::string_view owner = block.name(n);
    for (std::uint32_t s = 0; s < node.rrset_count; ++s) {
      const RRset& set = block.rrsets[node.first_rrset + s];
      if (zone_block && node.first_rrset + s == snapshot.soa_rrset) continue;
      // Lateness is fixed at build time (ttl_policy.hpp), so `now` does not matter here.
      const Snapshot::RRsetView view = snapshot.view(block, set, snapshot.built_ns);
      const std::uint32_t ttl = set.synthesized ? synthesized_ttl : set.static_ttl;
      for (std::uint32_t i = 0; i < set.record_count; ++i) {
        if (!snapshot.included(view, i)) continue;
        const Record& r = block.records[set.first_record + i];
        out.push_back({owner, set.type, ttl, block.rdata_of(r), block.target_name(set, r)});
      }
    }
  }
}

ZoneRecord soa_record(const Snapshot& snapshot) {
  const Block& zone = *snapshot.zone;
  const RRset& set = zone.rrsets[snapshot.soa_rrset];
  return {snapshot.apex,
          wire::type::kSoa,
          set.static_ttl,
          zone.rdata_of(zone.records[set.first_record]),
          {}};
}

void append_encoded(std::vector<std::uint8_t>& out, const ZoneRecord& record) {
  out.insert(out.end(), record.owner.begin(), record.owner.end());
  std::uint8_t fixed[8];
  wire::put_u16(fixed, record.type);
  wire::put_u32(fixed + 2, record.ttl);
  wire::put_u16(fixed + 6, static_cast<std::uint16_t>(record.rdata_size()));
  out.insert(out.end(), fixed, fixed + sizeof fixed);
  out.insert(out.end(), record.rdata.begin(), record.rdata.end());
  out.insert(out.end(), record.rdata_tail.begin(), record.rdata_tail.end());
}

ZoneRecord read_encoded(std::span<const std::uint8_t> list, std::size_t& pos) {
  ZoneRecord r;
  const std::size_t start = pos;
  while (list[pos] != 0)
    pos += 1 + list[pos];
  ++pos;  // the root label
  r.owner = {reinterpret_cast<const char*>(list.data() + start), pos - start};
  r.type = wire::read_u16(&list[pos]);
  r.ttl = wire::read_u32(&list[pos + 2]);
  const std::size_t length = wire::read_u16(&list[pos + 6]);
  pos += 8;
  r.rdata = list.subspan(pos, length);
  pos += length;
  return r;
}

}  // namespace discodns::catalog
