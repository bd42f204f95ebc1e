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

#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct State {
    a: Option<Val>,
    x: Option<Val>,
}

impl State {
    fn meet(&self, o: &State) -> State {
        State {
            a: if self.a == o.a { self.a.clone() } else { None },
            x: if self.x == o.x { self.x.clone() } else { None },
        }
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
    for _ in 0..4 {
        items = optimize(items);
        items = drop_jumps_to_next(items);
    }
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

fn optimize(items: Vec<Item>) -> Vec<Item> {
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
                let Some(mut state) = cur.take() else {
                    continue;
                };
                let (kept, after) = reduce(stmts, &state);
                state = after;
                let fact_t = (*code & 0xf8 == JMP | JEQ | K).then_some((*k, true));
                let fact_f = (*code & 0xf8 == JMP | JEQ | K).then_some((*k, false));
                let t = thread(&items, &pos, *t, &state, fact_t);
                let f = thread(&items, &pos, *f, &state, fact_f);
                merge(&mut incoming, t, &state);
                merge(&mut incoming, f, &state);
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

/// Follows a jump edge through tests whose outcome is known on it.
fn thread(
    items: &[Item],
    pos: &[usize],
    mut l: Label,
    state: &State,
    mut fact: Option<(u32, bool)>,
) -> Label {
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
                let (_, after) = reduce(stmts, state);
                let mut whole = state.clone();
                let pure = stmts.iter().all(|i| whole.step(i));
                if !pure || after != *state || state.a.is_none() {
                    return l;
                }
                let Some(fv) = fact else { return l };
                match outcome(*code, *k, fv) {
                    Some(true) => {
                        l = *t;
                        if *code & 0xf8 == JMP | JEQ | K {
                            fact = Some((*k, true));
                        }
                    }
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
        // Find the first conditional jump too far for 8 bits.
        let mut pc = 0usize;
        let mut far = None;
        for (n, i) in items.iter().enumerate() {
            match i {
                Item::Label(_) => {}
                Item::Test { stmts, t, f, .. } => {
                    let jpc = pc + stmts.len();
                    let ft = target(t).saturating_sub(jpc + 1) > 255;
                    let ff = target(f).saturating_sub(jpc + 1) > 255;
                    if ft || ff {
                        far = Some((n, ft, ff));
                        break;
                    }
                    pc = jpc + 1;
                }
                _ => pc += 1,
            }
        }
        if let Some((n, ft, ff)) = far {
            let mut tramp = Vec::new();
            if let Some(Item::Test { t, f, .. }) = items.get_mut(n) {
                if ft {
                    *next_label += 1;
                    tramp.push(Item::Label(*next_label));
                    tramp.push(Item::Ja(*t));
                    *t = *next_label;
                }
                if ff {
                    *next_label += 1;
                    tramp.push(Item::Label(*next_label));
                    tramp.push(Item::Ja(*f));
                    *f = *next_label;
                }
            }
            items.splice(n + 1..n + 1, tramp);
            continue;
        }
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
