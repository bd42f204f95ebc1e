//! The committed shell completions and man pages must match the CLI.

mod common;

#[test]
fn completions_and_man_pages_are_up_to_date() {
    common::fresh::assert_fresh(
        "generate",
        netdx::generate::write_all,
        &["completions", "man"],
        "run `NETDX_REGENERATE=1 cargo test --test generated`",
    );
}
