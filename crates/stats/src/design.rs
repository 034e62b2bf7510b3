//! The order of repeated measurements: how several items (builds, knob values, worker counts)
//! are run in turn so that a drift of the machine's speed costs them alike. Shared by the
//! profiler's scaling measurement and xtask's sweep and scaling commands.

/// The order of the runs, `(item, repeat from 0)`: each pair of repeats goes through the items
/// forward, then backward, so a linear drift of the machine's speed (a neighbour's job starting)
/// gives every item the same mean position, as ABBA rounds do for two builds; each later pair
/// starts one item further on, so no item is always the first run after the build.
pub fn interleave<T: Copy>(items: &[T], repeat: usize) -> Vec<(T, usize)> {
    let mut order = Vec::with_capacity(items.len() * repeat);
    for r in 0..repeat {
        let mut pass = items.to_vec();
        if !items.is_empty() {
            pass.rotate_left((r / 2) % items.len());
        }
        if r % 2 == 1 {
            pass.reverse();
        }
        order.extend(pass.into_iter().map(|item| (item, r)));
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_item_runs_once_per_repeat_and_pairs_of_repeats_balance_a_drift() {
        let items = ['a', 'b', 'c', 'd', 'e'];
        let order = interleave(&items, 4);
        assert_eq!(order.len(), 20);
        let mut sorted = order.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), 20, "a run twice: {order:?}");
        for (r, pass) in order.chunks(items.len()).enumerate() {
            assert!(pass.iter().all(|&(_, repeat)| repeat == r), "{pass:?}");
        }
        for pair in order.chunks(2 * items.len()) {
            let (first, second) = pair.split_at(items.len());
            for item in items {
                let at = |pass: &[(char, usize)]| pass.iter().position(|&(i, _)| i == item).unwrap();
                assert_eq!(at(first) + at(second), items.len() - 1, "{item} in {pair:?}");
            }
        }
        // Forward, backward, then the next pair starts one item on.
        let firsts: Vec<char> = order.chunks(items.len()).map(|pass| pass[0].0).collect();
        assert_eq!(firsts, ['a', 'e', 'b', 'a']);
        assert_eq!(interleave::<u8>(&[], 3), []);
        assert_eq!(interleave(&[7], 2), [(7, 0), (7, 1)]);
    }
}
