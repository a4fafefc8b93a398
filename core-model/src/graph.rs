//! The reference graph (petgraph): referrers on one side, folios on the other,
//! an edge per reference. The GUI lays it out; tests query it.

use crate::ids::FolioId;
use crate::refs::{RefKind, Referrer, all_references};
use crate::world::World;
use petgraph::graph::{DiGraph, NodeIndex};
use std::collections::HashMap;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Node {
    Referrer(Referrer),
    Folio(FolioId),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Edge {
    pub kind: RefKind,
    pub page: u16,
    pub refs: i64,
}

pub struct RefGraph {
    pub graph: DiGraph<Node, Edge>,
    index: HashMap<Node, NodeIndex>,
}

impl RefGraph {
    pub fn build(w: &World) -> RefGraph {
        let mut g = RefGraph {
            graph: DiGraph::new(),
            index: HashMap::new(),
        };
        for (id, _) in w.live_folios() {
            g.node(Node::Folio(id));
        }
        for r in all_references(w) {
            let a = g.node(Node::Referrer(r.from.clone()));
            let b = g.node(Node::Folio(r.folio));
            g.graph.add_edge(
                a,
                b,
                Edge {
                    kind: r.kind,
                    page: r.page,
                    refs: r.refs,
                },
            );
        }
        g
    }

    fn node(&mut self, n: Node) -> NodeIndex {
        if let Some(i) = self.index.get(&n) {
            return *i;
        }
        let i = self.graph.add_node(n.clone());
        self.index.insert(n, i);
        i
    }

    /// Referrers of a folio with the kind of each reference.
    pub fn referrers(&self, folio: FolioId) -> Vec<(Referrer, RefKind)> {
        let Some(&i) = self.index.get(&Node::Folio(folio)) else {
            return Vec::new();
        };
        let mut out: Vec<(Referrer, RefKind)> = self
            .graph
            .edges_directed(i, petgraph::Direction::Incoming)
            .filter_map(|e| match &self.graph[petgraph::visit::EdgeRef::source(&e)] {
                Node::Referrer(r) => Some((r.clone(), e.weight().kind)),
                Node::Folio(_) => None,
            })
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// Folios a referrer points at.
    pub fn folios_of(&self, from: &Referrer) -> Vec<FolioId> {
        let Some(&i) = self.index.get(&Node::Referrer(from.clone())) else {
            return Vec::new();
        };
        let mut v: Vec<FolioId> = self
            .graph
            .neighbors(i)
            .filter_map(|n| match self.graph[n] {
                Node::Folio(f) => Some(f),
                Node::Referrer(_) => None,
            })
            .collect();
        v.sort();
        v.dedup();
        v
    }
}
