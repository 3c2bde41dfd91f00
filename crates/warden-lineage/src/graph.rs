//! The lineage graph in memory: nodes interned to integers, edges in both directions,
//! bounded breadth-first walks that stop at visited nodes (so cycles end), and class
//! propagation that keeps the path that brought each class in.

// Node numbers come from `intern` and index vectors sized to the node count, so the
// hot loops index directly.
#![allow(clippy::indexing_slicing)]

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Towards sources: what a node was made from.
    Upstream,
    /// Towards consumers: what was made from a node.
    Downstream,
}

#[derive(Debug, Default, Clone)]
pub struct Graph {
    ids: HashMap<String, u32>,
    names: Vec<String>,
    out: Vec<Vec<u32>>,
    inc: Vec<Vec<u32>>,
    /// Every edge as `from << 32 | to`, so that a repeat is found without scanning a
    /// node's (possibly very long) list.
    edge_set: HashSet<u64>,
    edges: usize,
}

/// What a walk reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Walk {
    /// Reached nodes with their distance from the start (the start itself at 0).
    pub nodes: Vec<(String, u32)>,
    /// Edges between reached nodes, as (from, to) in the graph's direction, each an
    /// index into `nodes`.
    pub edges: Vec<(u32, u32)>,
    /// Whether the walk met a node it had already reached through another edge that
    /// leads back towards the start (a cycle).
    pub cycle: bool,
    /// Whether it stopped at the node limit before the depth limit.
    pub truncated: bool,
}

impl Graph {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn node_count(&self) -> usize {
        self.names.len()
    }

    pub fn edge_count(&self) -> usize {
        self.edges
    }

    pub fn contains(&self, node: &str) -> bool {
        self.ids.contains_key(node)
    }

    fn intern(&mut self, node: &str) -> u32 {
        if let Some(&i) = self.ids.get(node) {
            return i;
        }
        let i = u32::try_from(self.names.len()).unwrap_or(u32::MAX);
        self.ids.insert(node.to_string(), i);
        self.names.push(node.to_string());
        self.out.push(Vec::new());
        self.inc.push(Vec::new());
        i
    }

    /// Adds `from → to` (once; repeats are ignored).
    pub fn add_edge(&mut self, from: &str, to: &str) {
        let (f, t) = (self.intern(from), self.intern(to));
        let Some(outs) = self.out.get_mut(f as usize) else { return };
        if !self.edge_set.insert(u64::from(f) << 32 | u64::from(t)) {
            return;
        }
        outs.push(t);
        if let Some(ins) = self.inc.get_mut(t as usize) {
            ins.push(f);
        }
        self.edges += 1;
    }

    fn next(&self, n: u32, dir: Direction) -> &[u32] {
        let lists = match dir {
            Direction::Upstream => &self.inc,
            Direction::Downstream => &self.out,
        };
        lists.get(n as usize).map(Vec::as_slice).unwrap_or(&[])
    }

    fn name(&self, n: u32) -> &str {
        self.names.get(n as usize).map(String::as_str).unwrap_or("")
    }

    /// Breadth-first from `start`, at most `depth` edges away and `limit` nodes.
    pub fn walk(&self, start: &str, dir: Direction, depth: u32, limit: usize) -> Option<Walk> {
        let &s = self.ids.get(start)?;
        // Distances by node number (`u32::MAX`: not reached): no hashing on the hot path.
        let mut dist = vec![u32::MAX; self.names.len()];
        // Each reached node's index in `order`.
        let mut pos = vec![u32::MAX; self.names.len()];
        dist[s as usize] = 0;
        pos[s as usize] = 0;
        let mut order = vec![s];
        let mut edges: Vec<(u32, u32)> = Vec::new();
        let mut truncated = false;
        let mut head = 0;
        while let Some(&n) = order.get(head) {
            head += 1;
            let d = dist[n as usize];
            if d >= depth {
                continue;
            }
            for &m in self.next(n, dir) {
                if dist[m as usize] == u32::MAX {
                    if order.len() >= limit {
                        truncated = true;
                        continue;
                    }
                    dist[m as usize] = d + 1;
                    pos[m as usize] = u32::try_from(order.len()).unwrap_or(u32::MAX);
                    order.push(m);
                }
                let (a, b) = (pos[n as usize], pos[m as usize]);
                edges.push(match dir {
                    Direction::Downstream => (a, b),
                    Direction::Upstream => (b, a),
                });
            }
        }
        let cycle = self.has_cycle(&order, &dist, dir);
        let nodes = order.iter().map(|n| (self.name(*n).to_string(), dist[*n as usize])).collect();
        Some(Walk { nodes, edges, cycle, truncated })
    }

    /// Whether the subgraph of reached nodes holds a cycle: one depth-first pass with
    /// three colours over its edges, linear in its size.
    fn has_cycle(&self, reached: &[u32], dist: &[u32], dir: Direction) -> bool {
        // 0: not yet seen, 1: on the current path, 2: finished.
        let mut colour = vec![0u8; self.names.len()];
        for &root in reached {
            if colour[root as usize] != 0 {
                continue;
            }
            let mut stack = vec![(root, 0usize)];
            colour[root as usize] = 1;
            while let Some((n, i)) = stack.pop() {
                match self.next(n, dir).get(i) {
                    None => colour[n as usize] = 2,
                    Some(&m) => {
                        stack.push((n, i + 1));
                        if dist[m as usize] == u32::MAX {
                            continue;
                        }
                        match colour[m as usize] {
                            1 => return true,
                            0 => {
                                colour[m as usize] = 1;
                                stack.push((m, 0));
                            }
                            _ => {}
                        }
                    }
                }
            }
        }
        false
    }

    /// Every class found upstream of `start` (at most `depth` edges away), each with the
    /// shortest path that brings it in: `[start, …, the node carrying it]`. `classes_of`
    /// gives a node's own classes.
    pub fn upstream_classes(
        &self,
        start: &str,
        depth: u32,
        classes_of: impl Fn(&str) -> Vec<String>,
    ) -> BTreeMap<String, Vec<String>> {
        let mut found: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let Some(&s) = self.ids.get(start) else { return found };
        let mut parent: HashMap<u32, Option<u32>> = HashMap::from([(s, None)]);
        let mut queue = VecDeque::from([(s, 0u32)]);
        while let Some((n, d)) = queue.pop_front() {
            for class in classes_of(self.name(n)) {
                found.entry(class).or_insert_with(|| {
                    let mut path = vec![self.name(n).to_string()];
                    let mut at = n;
                    while let Some(Some(p)) = parent.get(&at) {
                        path.push(self.name(*p).to_string());
                        at = *p;
                    }
                    path.reverse();
                    path
                });
            }
            if d >= depth {
                continue;
            }
            for &m in self.next(n, Direction::Upstream) {
                if let std::collections::hash_map::Entry::Vacant(e) = parent.entry(m) {
                    e.insert(Some(n));
                    queue.push_back((m, d + 1));
                }
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Graph {
        // raw → train → features → fit → model; lookup → fit
        let mut g = Graph::new();
        for (a, b) in [
            ("dataset:raw", "run:train"),
            ("run:train", "dataset:features"),
            ("dataset:features", "run:fit"),
            ("dataset:lookup", "run:fit"),
            ("run:fit", "model:m@1"),
            ("run:fit", "model:m@1"),
        ] {
            g.add_edge(a, b);
        }
        g
    }

    #[test]
    fn walks_both_ways_within_the_depth() {
        let g = sample();
        assert_eq!(g.edge_count(), 5, "repeated edges count once");
        let up = g.walk("model:m@1", Direction::Upstream, 2, 100).unwrap();
        let names: Vec<&str> = up.nodes.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["model:m@1", "run:fit", "dataset:features", "dataset:lookup"]);
        assert!(!up.cycle && !up.truncated);
        let all = g.walk("model:m@1", Direction::Upstream, 10, 100).unwrap();
        assert_eq!(all.nodes.last().unwrap(), &("dataset:raw".to_string(), 4));
        let down = g.walk("dataset:raw", Direction::Downstream, 10, 100).unwrap();
        assert_eq!(down.nodes.len(), 5);
        let named: Vec<(&str, &str)> = down
            .edges
            .iter()
            .map(|&(a, b)| (down.nodes[a as usize].0.as_str(), down.nodes[b as usize].0.as_str()))
            .collect();
        assert!(named.contains(&("run:fit", "model:m@1")));
        let cut = g.walk("dataset:raw", Direction::Downstream, 10, 2).unwrap();
        assert!(cut.truncated && cut.nodes.len() == 2);
        assert!(g.walk("dataset:nowhere", Direction::Upstream, 3, 10).is_none());
    }

    #[test]
    fn cycles_end_and_are_reported() {
        let mut g = sample();
        g.add_edge("run:train", "dataset:raw"); // an incremental job rewriting its input
        let w = g.walk("dataset:raw", Direction::Downstream, 10, 100).unwrap();
        assert!(w.cycle);
        assert_eq!(w.nodes.len(), 5, "each node once");
        let up = g.walk("model:m@1", Direction::Upstream, 50, 100).unwrap();
        assert!(up.cycle);
    }

    #[test]
    fn classes_come_with_the_path_that_brought_them() {
        let g = sample();
        let classes = |n: &str| match n {
            "dataset:raw" => vec!["personal_data".to_string()],
            "dataset:lookup" => vec!["public".to_string()],
            "model:m@1" => vec!["declared".to_string()],
            _ => vec![],
        };
        let c = g.upstream_classes("model:m@1", 10, classes);
        assert_eq!(c["declared"], ["model:m@1"]);
        assert_eq!(c["public"], ["model:m@1", "run:fit", "dataset:lookup"]);
        assert_eq!(c["personal_data"], ["model:m@1", "run:fit", "dataset:features", "run:train", "dataset:raw"]);
        let shallow = g.upstream_classes("model:m@1", 2, classes);
        assert!(!shallow.contains_key("personal_data"));
    }

    #[test]
    fn long_chains_are_walked_without_recursion() {
        // d0 → d1 → … → d100000, and the last back to the first: every walk, the cycle
        // check, class propagation, clone and drop on a small stack.
        let n = 100_000;
        let mut g = Graph::new();
        for i in 0..n {
            g.add_edge(&format!("d{i}"), &format!("d{}", i + 1));
        }
        g.add_edge(&format!("d{n}"), "d0");
        let r = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(move || {
                let down = g.walk("d0", Direction::Downstream, u32::MAX, usize::MAX).unwrap();
                let up = g.walk(&format!("d{n}"), Direction::Upstream, u32::MAX, usize::MAX).unwrap();
                let classes = g.upstream_classes(&format!("d{n}"), u32::MAX, |name| {
                    if name == "d1" {
                        vec!["ephi".to_string()]
                    } else {
                        vec![]
                    }
                });
                let copy = g.clone();
                drop(g);
                (down.nodes.len(), down.cycle, up.nodes.len(), classes["ephi"].len(), copy.edge_count())
            })
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(r, (n + 1, true, n + 1, n, n + 1));
    }

    #[test]
    fn wide_fan_out_adds_edges_in_constant_time() {
        // One dataset read by 200,000 runs: repeats are still ignored, without scanning
        // the dataset's list for each new edge.
        let mut g = Graph::new();
        let started = std::time::Instant::now();
        for i in 0..200_000 {
            g.add_edge("dataset:lookup", &format!("run:{i}"));
        }
        g.add_edge("dataset:lookup", "run:7");
        assert_eq!(g.edge_count(), 200_000);
        assert!(started.elapsed() < std::time::Duration::from_secs(20), "{:?}", started.elapsed());
    }
}
