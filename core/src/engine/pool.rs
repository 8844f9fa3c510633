//! A queue's pool of free agents, indexed for every automatic strategy so that one routing
//! decision costs O(log n) in the number of agents; skill-based routing costs O(P + log n),
//! P being the number of distinct skill profiles among the free agents.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

/// Where an agent sits in the pools: everything the orderings need.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub(crate) struct PoolKey {
    pub load: u32,
    pub last_assigned: u64,
    pub order: u32,
    pub weight: u16,
    /// The agent's skill profile (agents with identical skills share one).
    pub profile: u32,
}

/// A Fenwick tree of weights by agent number: O(log n) update and weighted pick.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Fenwick {
    tree: Vec<u64>,
}

impl Fenwick {
    fn grow(&mut self, index: usize) {
        if index >= self.tree.len() {
            let size = (index + 1).next_power_of_two();
            let mut rebuilt = Fenwick {
                tree: vec![0; size],
            };
            for i in 0..self.tree.len() {
                let value = self.point(i);
                if value != 0 {
                    rebuilt.add(i, value as i64);
                }
            }
            *self = rebuilt;
        }
    }

    fn prefix(&self, end: usize) -> u64 {
        // Sum of weights in [0, end).
        let mut sum = 0;
        let mut i = end;
        while i > 0 {
            sum += self.tree[i - 1];
            i &= i - 1;
        }
        sum
    }

    fn point(&self, index: usize) -> u64 {
        self.prefix(index + 1) - self.prefix(index)
    }

    /// Adds `delta` to the weight at `index`.
    pub(crate) fn add(&mut self, index: usize, delta: i64) {
        self.grow(index);
        let mut i = index + 1;
        while i <= self.tree.len() {
            self.tree[i - 1] = self.tree[i - 1].wrapping_add_signed(delta);
            i += i & i.wrapping_neg();
        }
    }

    /// Sum of all weights.
    pub(crate) fn total(&self) -> u64 {
        self.prefix(self.tree.len())
    }

    /// The index whose weight span contains `target` (0 <= target < total).
    pub(crate) fn find(&self, mut target: u64) -> usize {
        let mut position = 0;
        let mut step = self.tree.len();
        while step > 0 {
            let next = position + step;
            if next <= self.tree.len() && self.tree[next - 1] <= target {
                position = next;
                target -= self.tree[next - 1];
            }
            step /= 2;
        }
        position
    }
}

/// The free agents of one queue (online, connected, with a free slot).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct AgentPool {
    /// Least active first, then least recently assigned, then agent number.
    pub by_load: BTreeSet<(u32, u64, u32)>,
    /// Fixed order: routing order, then agent number.
    pub by_order: BTreeSet<(u32, u32)>,
    /// Weight 1 per free agent, for uniform random picks.
    pub uniform: Fenwick,
    /// Routing weight per free agent, for weighted random picks.
    pub weighted: Fenwick,
    /// Free agents grouped by skill profile, each group least active first. Kept only once
    /// the queue has routed by skill (`profiles_indexed`), so other queues do not pay for it.
    pub by_profile: BTreeMap<u32, BTreeSet<(u32, u64, u32)>>,
    pub profiles_indexed: bool,
}

impl AgentPool {
    pub(crate) fn insert(&mut self, agent: u32, key: PoolKey) {
        self.by_load.insert((key.load, key.last_assigned, agent));
        self.add_to_profile(agent, key);
        self.by_order.insert((key.order, agent));
        self.uniform.add(agent as usize, 1);
        self.weighted.add(agent as usize, i64::from(key.weight));
    }

    pub(crate) fn remove(&mut self, agent: u32, key: PoolKey) {
        self.by_load.remove(&(key.load, key.last_assigned, agent));
        self.remove_from_profile(agent, key);
        self.by_order.remove(&(key.order, agent));
        self.uniform.add(agent as usize, -1);
        self.weighted.add(agent as usize, -i64::from(key.weight));
    }

    fn add_to_profile(&mut self, agent: u32, key: PoolKey) {
        if self.profiles_indexed {
            self.by_profile.entry(key.profile).or_default().insert((
                key.load,
                key.last_assigned,
                agent,
            ));
        }
    }

    fn remove_from_profile(&mut self, agent: u32, key: PoolKey) {
        if !self.profiles_indexed {
            return;
        }
        if let Some(group) = self.by_profile.get_mut(&key.profile) {
            group.remove(&(key.load, key.last_assigned, agent));
            if group.is_empty() {
                self.by_profile.remove(&key.profile);
            }
        }
    }

    /// Moves an agent already in the pool to a new key. A change of load alone (the common
    /// case: an offer, an accept, a chat ending) touches only the load orders.
    pub(crate) fn update(&mut self, agent: u32, old: PoolKey, new: PoolKey) {
        if old.order == new.order && old.weight == new.weight && old.profile == new.profile {
            self.by_load.remove(&(old.load, old.last_assigned, agent));
            self.by_load.insert((new.load, new.last_assigned, agent));
            self.remove_from_profile(agent, old);
            self.add_to_profile(agent, new);
        } else {
            self.remove(agent, old);
            self.insert(agent, new);
        }
    }

    /// Starts keeping the by-profile index, building it from the free agents' keys.
    pub(crate) fn index_profiles(&mut self, key_of: impl Fn(u32) -> PoolKey) {
        if self.profiles_indexed {
            return;
        }
        self.profiles_indexed = true;
        let free: Vec<u32> = self.by_load.iter().map(|&(_, _, agent)| agent).collect();
        for agent in free {
            self.add_to_profile(agent, key_of(agent));
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.by_load.is_empty()
    }

    pub(crate) fn len(&self) -> usize {
        self.by_load.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(load: u32, profile: u32) -> PoolKey {
        PoolKey {
            load,
            last_assigned: 0,
            order: 0,
            weight: 1,
            profile,
        }
    }

    #[test]
    fn the_profile_index_built_late_follows_every_later_change() {
        let mut pool = AgentPool::default();
        pool.insert(1, key(0, 7));
        pool.insert(2, key(1, 7));
        pool.insert(3, key(0, 9));
        assert!(
            pool.by_profile.is_empty(),
            "not kept before a skill-based pick"
        );
        let keys = [key(0, 0), key(0, 7), key(1, 7), key(0, 9)];
        pool.index_profiles(|agent| keys[agent as usize]);
        pool.update(1, key(0, 7), key(2, 7));
        pool.remove(3, key(0, 9));
        pool.insert(4, key(0, 9));
        let groups: Vec<(u32, Vec<u32>)> = pool
            .by_profile
            .iter()
            .map(|(profile, group)| (*profile, group.iter().map(|&(_, _, a)| a).collect()))
            .collect();
        assert_eq!(groups, vec![(7, vec![2, 1]), (9, vec![4])]);
    }

    #[test]
    fn fenwick_find_maps_each_target_to_the_weight_span_that_holds_it() {
        let mut tree = Fenwick::default();
        tree.add(0, 2);
        tree.add(3, 1);
        tree.add(9, 3);
        assert_eq!(tree.total(), 6);
        let picks: Vec<usize> = (0..6).map(|t| tree.find(t)).collect();
        assert_eq!(picks, vec![0, 0, 3, 9, 9, 9]);
        tree.add(0, -2);
        assert_eq!(tree.total(), 4);
        assert_eq!(tree.find(0), 3);
    }
}
