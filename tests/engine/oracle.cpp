#include "oracle.hpp"

#include <algorithm>
#include <tuple>

namespace discodns::testing {

std::vector<std::uint8_t> to_wire(const ldns_pkt* pkt) {
  std::uint8_t* wire = nullptr;
  std::size_t size = 0;
  EXPECT_EQ(ldns_pkt2wire(&wire, pkt, &size), LDNS_STATUS_OK);
  std::vector<std::uint8_t> out(wire, wire + size);
  free(wire);
  return out;
}

std::vector<std::uint8_t> make_query(const std::string& name, ldns_rr_type type,
                                     const QueryOptions& options) {
  ldns_pkt* pkt = nullptr;
  ldns_status s =
      ldns_pkt_query_new_frm_str(&pkt, name.c_str(), type, options.klass, options.rd ? LDNS_RD : 0);
  EXPECT_EQ(s, LDNS_STATUS_OK);
  ldns_pkt_set_id(pkt, options.id);
  if (options.edns) {
    ldns_pkt_set_edns_udp_size(pkt, options.udp_size);
    ldns_pkt_set_edns_do(pkt, options.dnssec_ok);
    ldns_pkt_set_edns_data(pkt, nullptr);
    // ldns writes an OPT record only when one of these is non-zero
    if (!ldns_pkt_edns(pkt)) ldns_pkt_set_edns_version(pkt, 0);
  }
  std::vector<std::uint8_t> out = to_wire(pkt);
  ldns_pkt_free(pkt);
  return out;
}

PacketPtr decode(const std::vector<std::uint8_t>& wire) {
  ldns_pkt* pkt = nullptr;
  ldns_status s = ldns_wire2pkt(&pkt, wire.data(), wire.size());
  EXPECT_EQ(s, LDNS_STATUS_OK) << ldns_get_errorstr_by_id(s);
  return PacketPtr(pkt, &ldns_pkt_free);
}

std::multimap<std::uint16_t, std::vector<std::uint8_t>> edns_options(ldns_pkt* pkt) {
  std::multimap<std::uint16_t, std::vector<std::uint8_t>> out;
  if (!ldns_pkt_edns(pkt)) return out;
  ldns_edns_option_list* list = ldns_pkt_edns_get_option_list(pkt);
  for (std::size_t i = 0; list && i < ldns_edns_option_list_get_count(list); ++i) {
    ldns_edns_option* option = ldns_edns_option_list_get_option(list, i);
    const std::uint8_t* data = ldns_edns_get_data(option);
    out.emplace(ldns_edns_get_code(option),
                std::vector<std::uint8_t>(data, data + ldns_edns_get_size(option)));
  }
  return out;
}

std::vector<ldns_rr*> rrs(const ldns_pkt* pkt, ldns_pkt_section section, int type) {
  std::vector<ldns_rr*> out;
  ldns_rr_list* list = nullptr;
  switch (section) {
    case LDNS_SECTION_ANSWER:
      list = ldns_pkt_answer(pkt);
      break;
    case LDNS_SECTION_AUTHORITY:
      list = ldns_pkt_authority(pkt);
      break;
    case LDNS_SECTION_ADDITIONAL:
      list = ldns_pkt_additional(pkt);
      break;
    default:
      list = ldns_pkt_question(pkt);
      break;
  }
  for (std::size_t i = 0; list && i < ldns_rr_list_rr_count(list); ++i) {
    ldns_rr* rr = ldns_rr_list_rr(list, i);
    if (type == 0 || static_cast<int>(ldns_rr_get_type(rr)) == type) out.push_back(rr);
  }
  return out;
}

std::vector<std::uint8_t> respond(const catalog::Snapshot& snapshot,
                                  const std::vector<std::uint8_t>& wire, common::Nanos now,
                                  const query::Limits& limits, query::Transport transport,
                                  query::Outcome& outcome) {
  std::vector<std::uint8_t> out(query::kMaxResponseSize);
  query::QueryContext ctx;
  ctx.transport = transport;
  static const std::uint8_t kClient[4] = {192, 0, 2, 1};
  ctx.client_address = kClient;
  outcome = query::answer(wire, snapshot, now, limits, ctx, out);
  out.resize(outcome.respond ? outcome.size : 0);
  return out;
}

PacketPtr ask(const catalog::Snapshot& snapshot, const std::string& name, ldns_rr_type type,
              common::Nanos now, query::Outcome* outcome) {
  std::vector<std::uint8_t> out(query::kMaxResponseSize);
  query::Limits limits;
  query::QueryContext ctx;
  query::Outcome o = query::answer(make_query(name, type), snapshot, now, limits, ctx, out);
  EXPECT_TRUE(o.respond) << name;
  out.resize(o.respond ? o.size : 0);
  if (outcome != nullptr) *outcome = o;
  return decode(out);
}

std::vector<std::uint32_t> ttls(const ldns_pkt* pkt, ldns_pkt_section section, int type) {
  std::vector<std::uint32_t> out;
  for (const ldns_rr* rr : rrs(pkt, section, type))
    out.push_back(ldns_rr_ttl(rr));
  return out;
}

std::string owner_text(const ldns_rr* rr) {
  char* s = ldns_rdf2str(ldns_rr_owner(rr));
  std::string out(s);
  free(s);
  return out;
}

std::string rdf_text(const ldns_rr* rr, std::size_t index) {
  char* s = ldns_rdf2str(ldns_rr_rdf(rr, index));
  std::string out(s);
  free(s);
  return out;
}

registry::Instance instance(const std::string& appid, const std::string& env,
                            const std::string& zone, const std::string& hostname,
                            std::vector<registry::Endpoint> endpoints, std::int64_t renew_ns,
                            std::uint16_t weight, registry::Status status) {
  registry::Instance inst;
  inst.appid = appid;
  inst.env = env;
  inst.zone = zone;
  inst.region = "china";
  inst.hostname = hostname;
  inst.endpoints = std::move(endpoints);
  inst.version = "v1";
  inst.metadata = {{"weight", std::to_string(weight)}};
  inst.status = status;
  inst.weight = weight;
  inst.renew_ns = renew_ns;
  return inst;
}

std::vector<registry::Instance> observed_at(std::vector<registry::Instance> instances,
                                            common::Nanos observed_ns) {
  for (auto& inst : instances)
    inst.observed_ns = observed_ns;
  return instances;
}

std::shared_ptr<const catalog::StaticZone> example_zone() {
  static const auto zone = std::make_shared<const catalog::StaticZone>(catalog::load_static_zone(
      std::string(DISCODNS_SOURCE_DIR) + "/zones/example.com.zone", "example.com."));
  return zone;
}

std::shared_ptr<const registry::RegistryData> registry_data(
    std::vector<registry::Instance> instances, const registry::RegistryData* previous) {
  return std::make_shared<registry::RegistryData>(
      registry::RegistryData::from({std::move(instances)}, previous));
}

catalog::BuildInput build_input(std::vector<registry::Instance> instances,
                                common::Nanos last_good_ns, bool stale, const Built& previous) {
  // Apps equal to the previous build's keep their copy, as a registry source does.
  const registry::RegistryData* before = previous.state && !previous.state->sources.empty()
                                             ? previous.state->sources[0].get()
                                             : nullptr;
  catalog::BuildInput input;
  input.previous = previous.state;
  input.zone = example_zone();
  catalog::RegionData region;
  region.region = "china";
  region.data = registry_data(std::move(instances), before);
  region.frozen_time = last_good_ns == 0;
  region.stale = stale;
  region.last_good_ns = last_good_ns;
  region.reconcile_interval_ns = region.frozen_time ? 0 : kReconcileNs;
  input.regions.push_back(region);
  input.serial = 2026112600;
  return input;
}

Built build(std::vector<registry::Instance> instances, common::Nanos last_good_ns, bool stale,
            const Built& previous, catalog::BuildStats* stats) {
  return Built(
      catalog::build(build_input(std::move(instances), last_good_ns, stale, previous), stats));
}

}  // namespace discodns::testing
