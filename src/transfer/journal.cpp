#include "transfer/journal.hpp"

namespace discodns::transfer {

std::shared_ptr<const Journal> Journal::with(std::shared_ptr<const catalog::ZoneDelta> delta,
                                             const JournalLimits& limits) const {
  auto next = std::make_shared<Journal>();
  if (delta == nullptr || limits.max_changes == 0) return next;
  if (!deltas_.empty() && deltas_.back()->to_serial == delta->from_serial) *next = *this;
  next->bytes_ += delta->records.size();
  next->deltas_.push_back(std::move(delta));
  while (!next->deltas_.empty() &&
         (next->deltas_.size() > limits.max_changes || next->bytes_ > limits.max_bytes)) {
    next->bytes_ -= next->deltas_.front()->records.size();
    next->deltas_.pop_front();
  }
  return next;
}

std::vector<const catalog::ZoneDelta*> Journal::chain(std::uint32_t serial,
                                                      std::uint32_t target) const {
  std::vector<const catalog::ZoneDelta*> out;
  std::size_t i = 0;
  while (i < deltas_.size() && deltas_[i]->from_serial != serial)
    ++i;
  for (; i < deltas_.size(); ++i) {
    out.push_back(deltas_[i].get());
    if (deltas_[i]->to_serial == target) return out;
  }
  return {};
}

}  // namespace discodns::transfer
