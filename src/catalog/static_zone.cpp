#include "catalog/static_zone.hpp"

#include <cstdio>
#include <memory>

#include "wire/name.hpp"
#include "wire/types.hpp"

// Last: ldns's headers define macros (bool/false) that break later standard headers.
#include <ldns/ldns.h>

namespace discodns::catalog {
namespace {

std::string lower(std::string s) {
  for (char& c : s)
    c = wire::ascii_lower(c);
  return s;
}

std::string rdf_bytes(const ldns_rdf* rdf) {
  return {reinterpret_cast<const char*>(ldns_rdf_data(rdf)), ldns_rdf_size(rdf)};
}

StaticRecord to_record(const ldns_rr* rr) {
  StaticRecord record;
  record.owner = lower(rdf_bytes(ldns_rr_owner(rr)));
  record.type = static_cast<std::uint16_t>(ldns_rr_get_type(rr));
  record.ttl = ldns_rr_ttl(rr);
  // ldns keeps each RDATA field in wire form (names uncompressed), so concatenating the
  // fields gives the record's wire RDATA.
  for (std::size_t i = 0; i < ldns_rr_rd_count(rr); ++i) {
    std::string field = rdf_bytes(ldns_rr_rdf(rr, i));
    record.rdata.insert(record.rdata.end(), field.begin(), field.end());
  }
  return record;
}

}  // namespace

StaticZone load_static_zone(const std::filesystem::path& file, const std::string& domain) {
  auto apex = wire::text_to_wire(domain);
  if (!apex) throw ZoneError(file.string() + ":0: invalid domain '" + domain + "'");

  std::unique_ptr<FILE, int (*)(FILE*)> fp(std::fopen(file.c_str(), "r"), &std::fclose);
  if (!fp) throw ZoneError(file.string() + ":0: cannot open zone file");

  ldns_rdf* origin = ldns_dname_new_frm_str(domain.c_str());
  ldns_zone* zone = nullptr;
  int line = 1;
  ldns_status status =
      ldns_zone_new_frm_fp_l(&zone, fp.get(), origin, 3600, LDNS_RR_CLASS_IN, &line);
  ldns_rdf_deep_free(origin);
  if (status != LDNS_STATUS_OK) {
    throw ZoneError(file.string() + ":" + std::to_string(line) + ": " +
                    ldns_get_errorstr_by_id(status));
  }
  std::unique_ptr<ldns_zone, void (*)(ldns_zone*)> guard(zone, &ldns_zone_deep_free);

  StaticZone out;
  out.apex = *apex;
  out.apex_text = wire::wire_to_text(*apex);
  auto fail = [&](const std::string& why) -> ZoneError {
    return ZoneError(file.string() + ": " + why);
  };

  const ldns_rr* soa = ldns_zone_soa(zone);
  if (soa == nullptr) throw fail("no SOA record for " + out.apex_text);
  StaticRecord soa_record = to_record(soa);
  if (soa_record.owner != out.apex) throw fail("the SOA is not at the apex " + out.apex_text);
  out.soa_serial = ldns_rdf2native_int32(ldns_rr_rdf(soa, 2));
  out.soa_minimum = ldns_rdf2native_int32(ldns_rr_rdf(soa, 6));
  out.soa_ttl = soa_record.ttl;
  out.records.push_back(std::move(soa_record));

  bool apex_ns = false;
  const ldns_rr_list* rrs = ldns_zone_rrs(zone);
  for (std::size_t i = 0; i < ldns_rr_list_rr_count(rrs); ++i) {
    StaticRecord record = to_record(ldns_rr_list_rr(rrs, i));
    std::string owner_text = wire::wire_to_text(record.owner);
    if (!wire::is_at_or_below(record.owner, out.apex)) {
      throw fail("record owner " + owner_text + " is outside the zone " + out.apex_text);
    }
    if (record.type == wire::type::kSoa) throw fail("a second SOA record at " + owner_text);
    if (record.type == wire::type::kCname) {
      throw fail("CNAME at " + owner_text + " is not supported (discodns never serves CNAME)");
    }
    if (record.owner.find("\001*") == 0) {
      throw fail("wildcard " + owner_text + " is not supported");
    }
    if (record.type == wire::type::kNs && record.owner == out.apex) apex_ns = true;
    out.records.push_back(std::move(record));
  }
  if (!apex_ns) throw fail("no NS record at the apex " + out.apex_text);
  return out;
}

}  // namespace discodns::catalog
