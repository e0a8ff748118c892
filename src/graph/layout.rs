//! A layered left-to-right layout (Sugiyama's method, kept small):
//! flows that close a loop are reversed, elements get the layer of their
//! longest path from the start, long flows pass through dummy points in
//! the layers between, a few barycentre sweeps reduce crossings, and each
//! layer's elements are placed as near their neighbours as their order
//! allows. Everything is vectors in element order: the same process
//! always gives the same layout.

use super::{Graph, NodeKind};
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Space between the elements of a layer.
const ROW_GAP: f64 = 28.0;
/// The least space between two layers; labelled flows widen it.
const LAYER_GAP: f64 = 56.0;
/// The widest a label makes the space between layers.
const MAX_LABEL_GAP: f64 = 180.0;
/// The room a flow passing through a layer takes.
const DUMMY_HEIGHT: f64 = 14.0;
const MARGIN: f64 = 20.0;
/// How wide a character of an 11px label is, on average.
pub(super) const LABEL_CHAR: f64 = 6.2;
/// Labels longer than this are clipped (the full text is the tooltip).
pub(super) const LABEL_CHARS: usize = 30;
/// Crossing-reduction sweeps (down and up count as two).
const SWEEPS: usize = 8;

/// Where the layout put one element.
#[derive(Clone, Debug, PartialEq)]
pub struct Placed {
    /// The box it takes, its label included.
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
    /// The shape inside the box: centred horizontally, at the top.
    pub shape_width: f64,
    pub shape_height: f64,
    pub layer: usize,
}

impl Placed {
    /// The centre of the shape.
    pub fn centre(&self) -> (f64, f64) {
        (self.x + self.width / 2.0, self.y + self.shape_height / 2.0)
    }

    /// Where flows leave (right) and arrive (left).
    fn right(&self) -> (f64, f64) {
        let (cx, cy) = self.centre();
        (cx + self.shape_width / 2.0, cy)
    }

    fn left(&self) -> (f64, f64) {
        let (cx, cy) = self.centre();
        (cx - self.shape_width / 2.0, cy)
    }

    /// Below the box, label included: where a loop's flow leaves and arrives.
    fn bottom(&self) -> (f64, f64) {
        (self.x + self.width / 2.0, self.y + self.height)
    }

    /// Whether two boxes share any area.
    pub fn overlaps(&self, other: &Placed) -> bool {
        self.x < other.x + other.width
            && other.x < self.x + self.width
            && self.y < other.y + other.height
            && other.y < self.y + self.height
    }
}

/// A point of the picture.
pub type Point = (f64, f64);

/// The computed picture: element boxes, flow routes, border timers.
#[derive(Clone, Debug, PartialEq)]
pub struct Layout {
    pub width: f64,
    pub height: f64,
    /// One per element, in element order.
    pub nodes: Vec<Placed>,
    /// One route per flow (the graph's edges), from source to target.
    pub edges: Vec<Vec<(f64, f64)>>,
    /// Per border timer: its circle's centre, and its flow's route.
    pub timers: Vec<(Point, Vec<Point>)>,
}

/// Radius of a border timer's circle.
pub(super) const TIMER_RADIUS: f64 = 10.0;

/// The size of an element's shape, and of the box with its label.
fn size(graph: &Graph, i: usize) -> (f64, f64, f64, f64) {
    let node = &graph.nodes[i];
    let timers = graph.timers.iter().filter(|t| t.element == i).count() as f64;
    // Border timers hang below the shape, their labels one under another.
    let below = if timers > 0.0 { TIMER_RADIUS + 8.0 + 12.0 * timers } else { 0.0 };
    match node.kind {
        NodeKind::Script | NodeKind::User | NodeKind::Call => {
            let width = 150.0_f64.max(timers * 2.6 * TIMER_RADIUS + 20.0);
            let height = if node.multi.is_some() { 76.0 } else { 64.0 };
            (width, height, width, height + below)
        }
        NodeKind::Start | NodeKind::End | NodeKind::Terminate => (36.0, 36.0, 120.0, 36.0 + 32.0 + below),
        NodeKind::Timer | NodeKind::Signal => (40.0, 40.0, 120.0, 40.0 + 44.0 + below),
        NodeKind::Exclusive | NodeKind::Inclusive | NodeKind::Parallel => (50.0, 50.0, 120.0, 50.0 + 32.0 + below),
    }
}

/// A flow for the layout: an edge or a border timer's flow.
struct Link {
    from: usize,
    to: usize,
    /// It closes a loop: laid out from `to` to `from`.
    reversed: bool,
    /// The points it passes, one per layer between its ends (indexes into
    /// the vertices after the elements).
    dummies: Vec<usize>,
    label: f64,
}

/// Lays the process out.
pub fn layout(graph: &Graph) -> Layout {
    let n = graph.nodes.len();
    let mut links: Vec<Link> = graph
        .edges
        .iter()
        .map(|e| (e.from, e.to, e.label.as_deref()))
        .chain(graph.timers.iter().map(|t| (t.element, t.target, Some(t.label.as_str()))))
        .map(|(from, to, label)| Link {
            from,
            to,
            reversed: false,
            dummies: Vec::new(),
            label: label.map_or(0.0, |l| l.chars().count().min(LABEL_CHARS) as f64 * LABEL_CHAR),
        })
        .collect();
    mark_loops(graph, n, &mut links);
    let layer_of = layers(n, &links);

    // Vertices: the elements, then the dummy points of long flows.
    let mut layer = layer_of.clone();
    let mut heights: Vec<f64> = (0..n).map(|i| size(graph, i).3).collect();
    let mut ports: Vec<f64> = (0..n).map(|i| size(graph, i).1 / 2.0).collect();
    let mut segments: Vec<(usize, usize)> = Vec::new();
    for link in &mut links {
        if link.from == link.to {
            continue;
        }
        let (a, b) = if link.reversed { (link.to, link.from) } else { (link.from, link.to) };
        let mut prev = a;
        for l in layer[a] + 1..layer[b] {
            let v = layer.len();
            layer.push(l);
            heights.push(DUMMY_HEIGHT);
            ports.push(DUMMY_HEIGHT / 2.0);
            segments.push((prev, v));
            link.dummies.push(v);
            prev = v;
        }
        segments.push((prev, b));
    }
    let vertices = layer.len();
    let layers = layer_of.iter().copied().max().map_or(0, |m| m + 1);
    let mut preds: Vec<Vec<usize>> = vec![Vec::new(); vertices];
    let mut succs: Vec<Vec<usize>> = vec![Vec::new(); vertices];
    for &(a, b) in &segments {
        succs[a].push(b);
        preds[b].push(a);
    }

    let mut rows: Vec<Vec<usize>> = vec![Vec::new(); layers];
    for v in 0..vertices {
        rows[layer[v]].push(v);
    }
    order(&mut rows, &preds, &succs, vertices);

    // Columns: each layer as wide as its widest element, then a gap wide
    // enough for the labels of the flows that leave it.
    let mut widths = vec![0.0_f64; layers];
    for i in 0..n {
        widths[layer[i]] = widths[layer[i]].max(size(graph, i).2);
    }
    let mut gaps = vec![LAYER_GAP; layers];
    for link in &links {
        if link.label > 0.0 && !link.reversed {
            let l = layer[link.from];
            gaps[l] = gaps[l].max((link.label + 24.0).min(MAX_LABEL_GAP));
        }
    }
    let mut column_x = vec![MARGIN; layers];
    for l in 1..layers {
        column_x[l] = column_x[l - 1] + widths[l - 1] + gaps[l - 1];
    }

    let ys = place_rows(&rows, &preds, &succs, &heights, &ports);
    let mut nodes: Vec<Placed> = (0..n)
        .map(|i| {
            let (shape_width, shape_height, width, height) = size(graph, i);
            let l = layer[i];
            Placed {
                x: column_x[l] + (widths[l] - width) / 2.0,
                y: ys[i],
                width,
                height,
                shape_width,
                shape_height,
                layer: l,
            }
        })
        .collect();
    let dummy_point = |v: usize| (column_x[layer[v]] + widths[layer[v]] / 2.0, ys[v] + DUMMY_HEIGHT / 2.0);

    // Shift everything so the top is at the margin.
    let top = nodes.iter().map(|p| p.y).chain((n..vertices).map(|v| ys[v])).fold(f64::INFINITY, f64::min);
    let shift = if top.is_finite() { MARGIN - top } else { 0.0 };
    for p in &mut nodes {
        p.y += shift;
    }
    let dummy = |v: usize| {
        let (x, y) = dummy_point(v);
        (x, y + shift)
    };

    let timer_centre = |t: usize| -> (f64, f64) {
        let host = graph.timers[t].element;
        let k = graph.timers[..t].iter().filter(|o| o.element == host).count() as f64;
        let p = &nodes[host];
        let (cx, _) = p.centre();
        let left = cx - p.shape_width / 2.0;
        (left + 2.0 * TIMER_RADIUS + k * 2.6 * TIMER_RADIUS, p.y + p.shape_height)
    };
    let route = |link: &Link, start: Option<(f64, f64)>| -> Vec<(f64, f64)> {
        let (from, to) = (&nodes[link.from], &nodes[link.to]);
        if link.from == link.to {
            // A flow back to itself: a loop over the top of the shape.
            let (cx, _) = from.centre();
            let (rx, ry) = from.right();
            let top = from.y - 14.0;
            return vec![(rx, ry), (rx + 14.0, ry), (rx + 14.0, top), (cx, top), (cx, from.y)];
        }
        let mut points = Vec::new();
        if link.reversed {
            // Closes a loop: leaves below the shape, passes the layers
            // between (right to left), arrives below the target.
            let s = start.unwrap_or_else(|| from.bottom());
            points.push(s);
            points.push((s.0, from.y + from.height + 10.0));
            points.extend(link.dummies.iter().rev().map(|&v| dummy(v)));
            let e = to.bottom();
            points.push((e.0, e.1 + 10.0));
            points.push(e);
        } else {
            match start {
                // From a border timer: down past the box, then on.
                Some(s) => {
                    let below = from.y + from.height + 6.0;
                    points.push(s);
                    points.push((s.0, below));
                    points.push((from.x + from.width + 10.0, below));
                }
                None => points.push(from.right()),
            }
            points.extend(link.dummies.iter().map(|&v| dummy(v)));
            points.push(to.left());
        }
        points
    };
    let edges: Vec<Vec<(f64, f64)>> = links[..graph.edges.len()].iter().map(|l| route(l, None)).collect();
    let timers: Vec<(Point, Vec<Point>)> = links[graph.edges.len()..]
        .iter()
        .enumerate()
        .map(|(t, l)| {
            let c = timer_centre(t);
            (c, route(l, Some((c.0, c.1 + TIMER_RADIUS))))
        })
        .collect();

    let mut width = column_x.last().copied().unwrap_or(MARGIN) + widths.last().copied().unwrap_or(0.0) + MARGIN;
    let mut height = 0.0_f64;
    for p in &nodes {
        height = height.max(p.y + p.height);
    }
    for route in edges.iter().chain(timers.iter().map(|(_, r)| r)) {
        for &(x, y) in route {
            width = width.max(x + MARGIN);
            height = height.max(y);
        }
    }
    Layout { width: width.ceil(), height: (height + MARGIN + 14.0).ceil(), nodes, edges, timers }
}

/// Marks the flows that close a loop (they lead back to an element on
/// the current depth-first path from the start), so layering sees no cycle.
fn mark_loops(graph: &Graph, n: usize, links: &mut [Link]) {
    let mut out: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (k, link) in links.iter().enumerate() {
        out[link.from].push(k);
    }
    // 0: not seen, 1: on the path, 2: done.
    let mut state = vec![0u8; n];
    let start = graph.nodes.iter().position(|node| node.kind == NodeKind::Start).unwrap_or(0);
    let roots = std::iter::once(start).chain(0..n);
    for root in roots {
        if root >= n || state[root] != 0 {
            continue;
        }
        // An explicit stack: a process may be thousands of elements long.
        let mut stack: Vec<(usize, usize)> = vec![(root, 0)];
        state[root] = 1;
        while let Some(&mut (v, ref mut next)) = stack.last_mut() {
            if let Some(&k) = out[v].get(*next) {
                *next += 1;
                let w = links[k].to;
                match state[w] {
                    0 => {
                        state[w] = 1;
                        stack.push((w, 0));
                    }
                    1 => links[k].reversed = w != v,
                    _ => {}
                }
            } else {
                state[v] = 2;
                stack.pop();
            }
        }
    }
}

/// Each element's layer: the longest path to it from an element without
/// incoming flows, the loops' flows reversed.
fn layers(n: usize, links: &[Link]) -> Vec<usize> {
    let mut succ: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut indegree = vec![0usize; n];
    for link in links.iter().filter(|l| l.from != l.to) {
        let (a, b) = if link.reversed { (link.to, link.from) } else { (link.from, link.to) };
        succ[a].push(b);
        indegree[b] += 1;
    }
    let mut layer = vec![0usize; n];
    let mut ready: BinaryHeap<Reverse<usize>> = (0..n).filter(|&v| indegree[v] == 0).map(Reverse).collect();
    while let Some(Reverse(v)) = ready.pop() {
        for &w in &succ[v] {
            layer[w] = layer[w].max(layer[v] + 1);
            indegree[w] -= 1;
            if indegree[w] == 0 {
                ready.push(Reverse(w));
            }
        }
    }
    layer
}

/// Orders each layer's vertices to cross fewer flows: barycentre sweeps,
/// down then up, keeping the best order seen.
fn order(rows: &mut [Vec<usize>], preds: &[Vec<usize>], succs: &[Vec<usize>], vertices: usize) {
    let mut pos = vec![0usize; vertices];
    let index = |rows: &[Vec<usize>], pos: &mut [usize]| {
        for row in rows {
            for (i, &v) in row.iter().enumerate() {
                pos[v] = i;
            }
        }
    };
    index(rows, &mut pos);
    let mut best = rows.to_vec();
    let mut best_crossings = crossings(rows, succs, &pos);
    for sweep in 0..SWEEPS {
        let down = sweep % 2 == 0;
        let layer_order: Vec<usize> =
            if down { (1..rows.len()).collect() } else { (0..rows.len().saturating_sub(1)).rev().collect() };
        for l in layer_order {
            let neighbours = if down { preds } else { succs };
            let mut keyed: Vec<(f64, usize, usize)> = rows[l]
                .iter()
                .enumerate()
                .map(|(i, &v)| {
                    let ns = &neighbours[v];
                    let key = if ns.is_empty() {
                        i as f64
                    } else {
                        ns.iter().map(|&w| pos[w] as f64).sum::<f64>() / ns.len() as f64
                    };
                    (key, i, v)
                })
                .collect();
            keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            rows[l] = keyed.into_iter().map(|(_, _, v)| v).collect();
            for (i, &v) in rows[l].iter().enumerate() {
                pos[v] = i;
            }
        }
        let c = crossings(rows, succs, &pos);
        if c < best_crossings {
            best_crossings = c;
            best = rows.to_vec();
        }
    }
    rows.clone_from_slice(&best);
}

/// How many pairs of flow segments cross between neighbouring layers.
fn crossings(rows: &[Vec<usize>], succs: &[Vec<usize>], pos: &[usize]) -> usize {
    let mut total = 0;
    for row in rows {
        let mut segs: Vec<(usize, usize)> =
            row.iter().flat_map(|&v| succs[v].iter().map(move |&w| (pos[v], pos[w]))).collect();
        segs.sort_unstable();
        // Inversions of the targets once sorted by source count crossings.
        for i in 0..segs.len() {
            for j in i + 1..segs.len() {
                if segs[i].0 < segs[j].0 && segs[i].1 > segs[j].1 {
                    total += 1;
                }
            }
        }
    }
    total
}

/// Each vertex's top, keeping each layer's order and gaps: a few passes
/// that move every vertex as near the mean of its neighbours as the
/// order allows (the nearest in least squares, found by pooling
/// neighbours that push against each other).
fn place_rows(
    rows: &[Vec<usize>],
    preds: &[Vec<usize>],
    succs: &[Vec<usize>],
    heights: &[f64],
    ports: &[f64],
) -> Vec<f64> {
    let mut y = vec![0.0_f64; heights.len()];
    for row in rows {
        let mut top = 0.0;
        for &v in row {
            y[v] = top;
            top += heights[v] + ROW_GAP;
        }
    }
    for pass in 0..6 {
        let down = pass % 2 == 0;
        let layer_order: Vec<usize> =
            if down { (1..rows.len()).collect() } else { (0..rows.len().saturating_sub(1)).rev().collect() };
        for l in layer_order {
            let row = &rows[l];
            let neighbours = if down { preds } else { succs };
            let desired: Vec<f64> = row
                .iter()
                .map(|&v| {
                    let ns = &neighbours[v];
                    if ns.is_empty() {
                        y[v]
                    } else {
                        ns.iter().map(|&w| y[w] + ports[w]).sum::<f64>() / ns.len() as f64 - ports[v]
                    }
                })
                .collect();
            let placed = pack(row.iter().map(|&v| heights[v]), &desired);
            for (&v, top) in row.iter().zip(placed) {
                y[v] = top;
            }
        }
    }
    y
}

/// The tops nearest `desired` (least squares) with each box below the
/// one before it, `ROW_GAP` apart.
fn pack(heights: impl Iterator<Item = f64>, desired: &[f64]) -> Vec<f64> {
    // With offset o_i (the room the boxes before i need), z_i = top_i - o_i
    // must not decrease: pool adjacent violators.
    let mut offsets = Vec::with_capacity(desired.len());
    let mut o = 0.0;
    for h in heights {
        offsets.push(o);
        o += h + ROW_GAP;
    }
    // Blocks of (sum, count).
    let mut blocks: Vec<(f64, usize)> = Vec::new();
    for (d, o) in desired.iter().zip(&offsets) {
        blocks.push((d - o, 1));
        while blocks.len() > 1 {
            let (s2, c2) = blocks[blocks.len() - 1];
            let (s1, c1) = blocks[blocks.len() - 2];
            if s1 / c1 as f64 > s2 / c2 as f64 {
                blocks.pop();
                let last = blocks.len() - 1;
                blocks[last] = (s1 + s2, c1 + c2);
            } else {
                break;
            }
        }
    }
    let mut out = Vec::with_capacity(desired.len());
    for (s, c) in blocks {
        let z = s / c as f64;
        for _ in 0..c {
            let o = offsets[out.len()];
            out.push(z + o);
        }
    }
    out
}
