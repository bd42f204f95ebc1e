//! Turns a condition tree into straight-line BPF with short-circuit
//! jumps, then a small optimizer: reloads of a value already in A or X
//! are dropped, a jump whose target test has a known outcome goes straight
//! to that outcome, and unreachable code goes away. Far jumps (over 255
//! instructions) get a `ja` trampoline.

use super::bpf::*;
use super::codegen::Cond;
use super::Insn;

type Label = usize;

#[derive(Debug, Clone)]
enum Item {
    Label(Label),
    Test {
        stmts: Vec<Insn>,
        code: u16,
        k: u32,
        t: Label,
        f: Label,
    },
    Ja(Label),
    Ret(u32),
}

struct Gen {
    items: Vec<Item>,
    next_label: Label,
}

impl Gen {
    fn label(&mut self) -> Label {
        self.next_label += 1;
        self.next_label
    }

    fn gen(&mut self, c: &Cond, t: Label, f: Label) {
        match c {
            Cond::True => self.items.push(Item::Ja(t)),
            Cond::False => self.items.push(Item::Ja(f)),
            Cond::Test {
                stmts,
                code,
                k,
                negate,
            } => {
                let (t, f) = if *negate { (f, t) } else { (t, f) };
                self.items.push(Item::Test {
                    stmts: stmts.clone(),
                    code: *code,
                    k: *k,
                    t,
                    f,
                });
            }
            Cond::Not(c) => self.gen(c, f, t),
            Cond::And(v) | Cond::Or(v) => {
                let is_and = matches!(c, Cond::And(_));
                for (i, c) in v.iter().enumerate() {
                    if i + 1 == v.len() {
                        self.gen(c, t, f);
                    } else {
                        let next = self.label();
                        if is_and {
                            self.gen(c, next, f);
                        } else {
                            self.gen(c, t, next);
                        }
                        self.items.push(Item::Label(next));
                    }
                }
            }
        }
    }
}

/// A value a register is known to hold.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Val {
    Imm(u32),
    Len,
    Abs(u16, u32),
    Msh(u32),
    Ind(u16, u32, Box<Val>),
    Alu(u16, u32, Box<Val>),
}

/// Most facts kept per program point.
const MAX_FACTS: usize = 32;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct State {
    a: Option<Val>,
    x: Option<Val>,
    /// Tests known on every path here: (value, jump code, k, outcome).
    /// The packet does not change, so a fact never expires.
    facts: Vec<(Val, u16, u32, bool)>,
}

impl State {
    fn meet(&self, o: &State) -> State {
        State {
            a: if self.a == o.a { self.a.clone() } else { None },
            x: if self.x == o.x { self.x.clone() } else { None },
            facts: self
                .facts
                .iter()
                .filter(|f| o.facts.contains(f))
                .cloned()
                .collect(),
        }
    }

    fn with_fact(&self, v: &Val, code: u16, k: u32, taken: bool) -> State {
        let mut s = self.clone();
        let f = (v.clone(), code, k, taken);
        if !s.facts.contains(&f) && s.facts.len() < MAX_FACTS {
            s.facts.push(f);
        }
        s
    }

    /// The outcome of testing value `v` with `code`/`k`, if the facts
    /// decide it.
    fn decide(&self, v: &Val, code: u16, k: u32) -> Option<bool> {
        self.facts
            .iter()
            .filter(|(fv, _, _, _)| fv == v)
            .find_map(|&(_, fcode, fk, taken)| {
                if fcode == code && fk == k {
                    Some(taken)
                } else if fcode == JMP | JEQ | K {
                    outcome(code, k, (fk, taken))
                } else {
                    None
                }
            })
    }

    /// Applies one statement; false when it has effects beyond A and X.
    fn step(&mut self, i: &Insn) -> bool {
        match class(i.code) {
            LD => {
                self.a = match mode(i.code) {
                    IMM => Some(Val::Imm(i.k)),
                    LEN => Some(Val::Len),
                    ABS => Some(Val::Abs(size(i.code), i.k)),
                    IND => self
                        .x
                        .clone()
                        .map(|x| Val::Ind(size(i.code), i.k, Box::new(x))),
                    _ => None,
                }
            }
            LDX => {
                self.x = match mode(i.code) {
                    IMM => Some(Val::Imm(i.k)),
                    LEN => Some(Val::Len),
                    MSH => Some(Val::Msh(i.k)),
                    _ => None,
                }
            }
            ALU => {
                self.a = if src(i.code) == K {
                    self.a
                        .take()
                        .map(|a| Val::Alu(op(i.code), i.k, Box::new(a)))
                } else {
                    None
                }
            }
            MISC => {
                if i.code & 0xf8 == TXA {
                    self.a = self.x.clone();
                } else {
                    self.x = self.a.clone();
                }
            }
            _ => {
                // Stores: registers unchanged, but memory is not tracked.
                return false;
            }
        }
        true
    }
}

/// Which way a test goes, when the value it tests is known to equal
/// (or differ from) a constant.
fn outcome(code: u16, k: u32, fact: (u32, bool)) -> Option<bool> {
    if src(code) != K {
        return None;
    }
    let (v, equal) = fact;
    if !equal {
        return (op(code) == JEQ && k == v).then_some(false);
    }
    Some(match op(code) {
        JEQ => v == k,
        JGT => v > k,
        JGE => v >= k,
        JSET => v & k != 0,
        _ => return None,
    })
}

/// Compiles a condition into a program returning `accept` or 0.
pub fn emit(c: &Cond, accept: u32) -> Vec<Insn> {
    let mut g = Gen {
        items: Vec::new(),
        next_label: 0,
    };
    let (acc, rej) = (g.label(), g.label());
    g.gen(c, acc, rej);
    g.items.push(Item::Label(acc));
    g.items.push(Item::Ret(accept));
    g.items.push(Item::Label(rej));
    g.items.push(Item::Ret(0));
    let mut items = g.items;
    // Thread jumps on whole tests first (each test recomputes what it
    // reads, so any edge may land on it), then drop reloads once.
    for _ in 0..3 {
        items = optimize(items, false);
        items = drop_jumps_to_next(items);
    }
    items = optimize(items, true);
    items = drop_jumps_to_next(items);
    layout(items, &mut g.next_label)
}

/// The items after label `l` up to the first real one.
fn first_after<'a>(items: &'a [Item], pos: &[usize], l: Label) -> Option<&'a Item> {
    let at = *pos.get(l)?;
    items
        .get(at..)?
        .iter()
        .find(|i| !matches!(i, Item::Label(_)))
}

fn optimize(items: Vec<Item>, reduce_loads: bool) -> Vec<Item> {
    let max_label = items
        .iter()
        .filter_map(|i| match i {
            Item::Label(l) => Some(*l),
            _ => None,
        })
        .max()
        .unwrap_or(0);
    let mut pos = vec![usize::MAX; max_label + 1];
    for (n, i) in items.iter().enumerate() {
        if let Item::Label(l) = i {
            pos[*l] = n;
        }
    }
    let mut incoming: Vec<Option<State>> = vec![None; max_label + 1];
    let mut out = Vec::with_capacity(items.len());
    // The state falling into the next item; None = unreachable.
    let mut cur: Option<State> = Some(State::default());
    let merge = |incoming: &mut Vec<Option<State>>, l: Label, s: &State| {
        if let Some(slot) = incoming.get_mut(l) {
            *slot = Some(match slot {
                Some(old) => old.meet(s),
                None => s.clone(),
            });
        }
    };
    for item in &items {
        match item {
            Item::Label(l) => {
                let from_jumps = incoming.get(*l).cloned().flatten();
                cur = match (cur.take(), from_jumps) {
                    (Some(a), Some(b)) => Some(a.meet(&b)),
                    (a, b) => a.or(b),
                };
                out.push(item.clone());
            }
            _ if cur.is_none() => {} // unreachable
            Item::Ret(_) => {
                out.push(item.clone());
                cur = None;
            }
            Item::Ja(l) => {
                let mut target = *l;
                for _ in 0..64 {
                    match first_after(&items, &pos, target) {
                        Some(Item::Ja(m)) => target = *m,
                        _ => break,
                    }
                }
                if let Some(s) = &cur {
                    merge(&mut incoming, target, s);
                }
                out.push(Item::Ja(target));
                cur = None;
            }
            Item::Test {
                stmts,
                code,
                k,
                t,
                f,
            } => {
                let Some(state) = cur.take() else { continue };
                let (kept, after) = if reduce_loads {
                    reduce(stmts, &state)
                } else {
                    let mut s = state.clone();
                    for i in stmts {
                        s.step(i);
                    }
                    (stmts.clone(), s)
                };
                let (ts, fs) = match (&after.a, src(*code) == K) {
                    (Some(v), true) => (
                        after.with_fact(v, *code, *k, true),
                        after.with_fact(v, *code, *k, false),
                    ),
                    _ => (after.clone(), after.clone()),
                };
                let t = thread(&items, &pos, *t, &ts);
                let f = thread(&items, &pos, *f, &fs);
                merge(&mut incoming, t, &ts);
                merge(&mut incoming, f, &fs);
                out.push(Item::Test {
                    stmts: kept,
                    code: *code,
                    k: *k,
                    t,
                    f,
                });
            }
        }
    }
    out
}

/// Drops statements that recompute what A and X already hold; returns
/// the statements kept and the state after them.
fn reduce(stmts: &[Insn], state: &State) -> (Vec<Insn>, State) {
    // The whole sequence recomputes the same registers (`ldb [0]; and #0xf0`).
    let mut whole = state.clone();
    let pure = stmts.iter().all(|i| whole.step(i));
    if pure && whole.a.is_some() && whole == *state {
        return (Vec::new(), whole);
    }
    let mut s = state.clone();
    let mut kept = Vec::new();
    for i in stmts {
        let mut next = s.clone();
        let pure = next.step(i);
        let known = match class(i.code) {
            LD => s.a.is_some(),
            LDX => s.x.is_some(),
            MISC => s.a.is_some() && s.x.is_some(),
            _ => false,
        };
        if pure && known && next == s {
            continue;
        }
        kept.push(*i);
        s = next;
    }
    (kept, s)
}

/// Follows a jump edge through tests whose outcome the facts on it
/// decide. Skipping a test is safe: its statements only load (the value
/// is known, so they succeeded before) and every test recomputes what it
/// reads.
fn thread(items: &[Item], pos: &[usize], mut l: Label, state: &State) -> Label {
    for _ in 0..64 {
        match first_after(items, pos, l) {
            Some(Item::Ja(m)) => l = *m,
            Some(Item::Test {
                stmts,
                code,
                k,
                t,
                f,
            }) => {
                let mut s = State {
                    a: state.a.clone(),
                    x: state.x.clone(),
                    facts: Vec::new(),
                };
                if !stmts.iter().all(|i| s.step(i)) {
                    return l;
                }
                // A test that changes X would leave different registers
                // for its successors than they may expect.
                let Some(v) = &s.a else { return l };
                if s.x != state.x {
                    return l;
                }
                match state.decide(v, *code, *k) {
                    Some(true) => l = *t,
                    Some(false) => l = *f,
                    None => return l,
                }
            }
            _ => return l,
        }
    }
    l
}

fn drop_jumps_to_next(items: Vec<Item>) -> Vec<Item> {
    let mut out: Vec<Item> = Vec::with_capacity(items.len());
    for (n, item) in items.iter().enumerate() {
        if let Item::Ja(l) = item {
            let next_labels = items[n + 1..]
                .iter()
                .take_while(|i| matches!(i, Item::Label(_)))
                .any(|i| matches!(i, Item::Label(m) if m == l));
            if next_labels {
                continue;
            }
        }
        out.push(item.clone());
    }
    out
}

fn layout(mut items: Vec<Item>, next_label: &mut Label) -> Vec<Insn> {
    loop {
        let mut pc_of_label = std::collections::HashMap::new();
        let mut pc = 0usize;
        for i in &items {
            match i {
                Item::Label(l) => {
                    pc_of_label.insert(*l, pc);
                }
                Item::Test { stmts, .. } => pc += stmts.len() + 1,
                Item::Ja(_) | Item::Ret(_) => pc += 1,
            }
        }
        let target = |l: &Label| pc_of_label.get(l).copied().unwrap_or(0);
        // A conditional jump too far for 8 bits goes through a `ja` to the
        // same target within reach, or a new one right after it; repeat,
        // as insertions push other targets away.
        let mut jas: Vec<(usize, Label, Label)> = Vec::new(); // (pc, its label, target)
        let mut pc = 0usize;
        for w in items.windows(2) {
            match &w[0] {
                Item::Label(x) => {
                    if let Item::Ja(to) = &w[1] {
                        jas.push((pc, *x, *to));
                    }
                }
                Item::Test { stmts, .. } => pc += stmts.len() + 1,
                Item::Ja(_) | Item::Ret(_) => pc += 1,
            }
        }
        // Tests from the last to the first, so a trampoline made for one
        // test is ahead of the earlier ones and can serve them too.
        let mut tests = Vec::new();
        let mut pc = 0usize;
        for (n, i) in items.iter().enumerate() {
            match i {
                Item::Label(_) => {}
                Item::Test { stmts, .. } => {
                    tests.push((n, pc + stmts.len()));
                    pc += stmts.len() + 1;
                }
                _ => pc += 1,
            }
        }
        let mut inserts: Vec<(usize, Vec<Item>)> = Vec::new();
        for &(n, jpc) in tests.iter().rev() {
            let Some(Item::Test { t, f, .. }) = items.get_mut(n) else {
                continue;
            };
            let mut tramp = Vec::new();
            for edge in [t, f] {
                if target(edge).saturating_sub(jpc + 1) <= 255 {
                    continue;
                }
                let near = jas
                    .iter()
                    .filter(|(p, _, to)| *to == *edge && *p > jpc && *p - (jpc + 1) <= 255)
                    .map(|(_, x, _)| *x)
                    .next_back();
                if let Some(x) = near {
                    *edge = x;
                    continue;
                }
                *next_label += 1;
                tramp.push(Item::Label(*next_label));
                tramp.push(Item::Ja(*edge));
                jas.push((jpc + 1, *next_label, *edge));
                *edge = *next_label;
            }
            if !tramp.is_empty() {
                inserts.push((n, tramp));
            }
        }
        if !inserts.is_empty() {
            // `inserts` runs from the last test to the first.
            for (n, tramp) in inserts {
                items.splice(n + 1..n + 1, tramp);
            }
            continue;
        }
        // Reused trampolines may have moved out of reach: check again.
        let mut pc = 0usize;
        let mut all_near = true;
        let mut pc_of_label2 = std::collections::HashMap::new();
        for i in &items {
            match i {
                Item::Label(l) => {
                    pc_of_label2.insert(*l, pc);
                }
                Item::Test { stmts, .. } => pc += stmts.len() + 1,
                Item::Ja(_) | Item::Ret(_) => pc += 1,
            }
        }
        let mut pc = 0usize;
        for i in &items {
            match i {
                Item::Label(_) => {}
                Item::Test { stmts, t, f, .. } => {
                    let jpc = pc + stmts.len();
                    for l in [t, f] {
                        let to = pc_of_label2.get(l).copied().unwrap_or(0);
                        if to.saturating_sub(jpc + 1) > 255 {
                            all_near = false;
                        }
                    }
                    pc = jpc + 1;
                }
                _ => pc += 1,
            }
        }
        if !all_near {
            continue;
        }
        let target = |l: &Label| pc_of_label2.get(l).copied().unwrap_or(0);
        let mut out = Vec::new();
        for i in &items {
            match i {
                Item::Label(_) => {}
                Item::Test {
                    stmts,
                    code,
                    k,
                    t,
                    f,
                } => {
                    out.extend_from_slice(stmts);
                    let jpc = out.len();
                    out.push(Insn {
                        code: *code,
                        jt: (target(t).saturating_sub(jpc + 1)) as u8,
                        jf: (target(f).saturating_sub(jpc + 1)) as u8,
                        k: *k,
                    });
                }
                Item::Ja(l) => {
                    let jpc = out.len();
                    out.push(stmt(JMP | JA, target(l).saturating_sub(jpc + 1) as u32));
                }
                Item::Ret(k) => out.push(stmt(RET | K, *k)),
            }
        }
        return out;
    }
}

#[cfg(test)]
mod tests {
    use super::super::{compile, LinkType};

    #[test]
    fn syn_filter_is_as_compact_as_tcpdumps() {
        // tcpdump -d gives 12 instructions for this one.
        let p = compile(
            "tcp[tcpflags] & tcp-syn != 0 and tcp[tcpflags] & tcp-ack = 0",
            LinkType::Ethernet,
            65535,
        )
        .expect("compiles");
        assert_eq!(p.insns.len(), 12, "{}", p.disassemble());
    }

    #[test]
    fn far_jumps_get_trampolines_and_stay_valid() {
        let ports: Vec<String> = (1..=150).map(|p| p.to_string()).collect();
        let expr = format!("tcp[13] = 2 and not port {}", ports.join(" or "));
        let p = compile(&expr, LinkType::LinuxSll, 65535).expect("compiles");
        assert!(p.insns.len() > 300, "{}", p.insns.len());
        assert!(p.insns.iter().any(|i| i.code == 0x05), "a ja somewhere");
        p.validate().expect("valid");
    }

    #[test]
    fn known_outcomes_are_not_retested() {
        // After `ethertype == 0x86dd` fails, the IPv4 branch must not
        // reload the ethertype.
        let p = compile("port 80", LinkType::Ethernet, 65535).expect("compiles");
        let reloads = p
            .insns
            .iter()
            .filter(|i| i.code == 0x28 && i.k == 12)
            .count();
        assert_eq!(reloads, 1, "{}", p.disassemble());
    }
}
