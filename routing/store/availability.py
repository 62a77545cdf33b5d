"""Who can take the next person: one script answers for every volunteer on duty at once.

Taking in a person with automatic assignment asks, for each checked-in volunteer: on shift, not on a break or a
cool-down, not in a practice session, and how much room they have. Asked as pipelines that was four round
trips per new person (with 60 volunteers, 240 commands and their replies through the event loop); as one script
it is one round trip, and Redis answers it in microseconds.
"""

from __future__ import annotations

import random
from collections.abc import Collection, Mapping

from redis.asyncio import Redis

from routing.model import ConversationId, VolunteerId
from routing.store import keys
from routing.store.duty import break_key, cooldown_key
from routing.store.replies import text

# KEYS: the checked-in set.  ARGV: prefixes (break, cool-down, practice by volunteer, practice session, active
# set before and after the id), the default capacity, who to leave out ("" none), "*" or the ids on shift joined
# by ",", a random number, then volunteer/capacity pairs from the roster. Returns the volunteer with the most
# free capacity (ties broken by the random number) or "".
#
# The random tie-break matters in a burst: many arrivals ask at once, before any of them has assigned, and
# with a fixed tie-break every one of them would be sent to the same volunteer (who fills up, and the rest
# must ask again); drawn at random they spread over everyone with the same room.
_MOST_FREE = """
local on_shift = nil
if ARGV[9] ~= '*' then
  on_shift = {}
  for v in string.gmatch(ARGV[9], '[^,]+') do on_shift[v] = true end
end
local capacity = {}
for i = 11, #ARGV, 2 do capacity[ARGV[i]] = tonumber(ARGV[i + 1]) end
local best, best_free = {}, 0
for _, v in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if v ~= ARGV[8] and (on_shift == nil or on_shift[v])
     and redis.call('EXISTS', ARGV[1] .. v, ARGV[2] .. v) == 0 then
    local session = redis.call('GET', ARGV[3] .. v)
    if not (session and redis.call('EXISTS', ARGV[4] .. session) == 1) then
      local free = (capacity[v] or tonumber(ARGV[7])) - redis.call('SCARD', ARGV[5] .. v .. ARGV[6])
      if free > best_free then best, best_free = {v}, free
      elseif free == best_free and free > 0 then table.insert(best, v) end
    end
  end
end
if #best == 0 then return '' end
return best[tonumber(ARGV[10]) % #best + 1]
"""


class Availability:
    """The one question automatic assignment asks before it assigns."""

    def __init__(self, redis: Redis) -> None:
        self._script = redis.register_script(_MOST_FREE)

    async def most_free(
        self,
        capacities: Mapping[VolunteerId, int],
        default_capacity: int,
        on_shift: Collection[VolunteerId] | None,
        without: VolunteerId | None = None,
    ) -> VolunteerId | None:
        """The checked-in volunteer, on shift (`None`: no rota, everyone is), resting neither on a break nor a
        cool-down, not practising, with the most free capacity; None when nobody has room."""
        active = keys.volunteer_active(VolunteerId("\0")).split("\0")
        args: list[str | int] = [
            break_key(VolunteerId("")), cooldown_key(VolunteerId("")), keys.training_of(VolunteerId("")),
            keys.training(ConversationId("")), active[0], active[1], default_capacity, without or "",
            "*" if on_shift is None else ",".join(sorted(on_shift)), random.randrange(1 << 30),
        ]  # fmt: skip
        for volunteer, capacity in capacities.items():
            args += [volunteer, capacity]
        best = text(await self._script(keys=[keys.ON_DUTY], args=args))
        return VolunteerId(best) if best else None
