//! Outbound requests a caller or a provider can aim or fill: which addresses are public (webhook
//! targets, an identity provider's key URLs), and answers read only up to a bound (key sets,
//! Graph pages).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// True for addresses on the public internet: not loopback, private, link-local (cloud
/// metadata included), shared, unspecified, multicast, broadcast, documentation or reserved.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space (carrier-grade NAT)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || a >= 240) // reserved
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let segments = ip.segments();
    let first = segments[0];
    if let Some(embedded) = embedded_v4(ip) {
        return is_public_v4(embedded);
    }
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00 // unique local
        || (first & 0xffc0) == 0xfe80 // link-local
        || (first & 0xffc0) == 0xfec0 // site-local (deprecated, still routed privately)
        || first == 0x2001 && segments[1] == 0x0db8 // documentation
        || first == 0x2001 && segments[1] == 0x0000 // Teredo: tunnels to any IPv4 address
        || first == 0x2002 // 6to4: an IPv4 address in the next 32 bits
        || first == 0x0064 && segments[1] == 0xff9b) // NAT64 to anywhere, IPv4 included
}

/// The IPv4 address an IPv6 form carries in its last 32 bits where it reaches that IPv4
/// host: IPv4-compatible (`::a.b.c.d`, `::7f00:1`) and IPv4-translated (`::ffff:0:a.b.c.d`);
/// IPv4-mapped addresses are handled before.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let high_zero = s[..5].iter().all(|&x| x == 0);
    let compatible = high_zero && s[5] == 0 && (s[6] != 0 || s[7] > 1);
    let translated = s[..4].iter().all(|&x| x == 0) && s[4] == 0xffff && s[5] == 0;
    (compatible || translated).then(|| {
        let [.., a, b] = s;
        Ipv4Addr::new((a >> 8) as u8, a as u8, (b >> 8) as u8, b as u8)
    })
}

/// Why a bounded read of an answer stopped.
#[derive(Debug)]
pub enum ReadError {
    /// The answer is larger than the bound (said by its `Content-Length`, or found reading it).
    TooLarge,
    /// The answer could not be read.
    Transport(reqwest::Error),
}

/// An answer's body, read chunk by chunk and refused past `max_bytes`, so one answer cannot
/// take the process's memory.
pub async fn read_bounded(
    mut response: reqwest::Response,
    max_bytes: usize,
) -> Result<Vec<u8>, ReadError> {
    if response
        .content_length()
        .is_some_and(|n| n > max_bytes as u64)
    {
        return Err(ReadError::TooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(ReadError::Transport)? {
        if body.len() + chunk.len() > max_bytes {
            return Err(ReadError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
