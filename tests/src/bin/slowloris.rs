//! `slowloris SERVER CONNECTIONS FIRST_SOURCE`: one attacker process of the
//! slowloris test and bench (`netkit_tests::slowloris`); runs until its stdin closes.

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: slowloris SERVER:PORT CONNECTIONS FIRST_SOURCE";
    let server = args.first().and_then(|a| a.parse().ok()).expect(usage);
    let connections = args.get(1).and_then(|a| a.parse().ok()).expect(usage);
    let first = args.get(2).and_then(|a| a.parse().ok()).expect(usage);
    netkit_tests::slowloris::attack(server, connections, first);
}
