package dev.tandem.proxy;

import dev.tandem.config.ClusterConfig;
import dev.tandem.config.ConfigRule;
import dev.tandem.config.ProxyCertificate;
import dev.tandem.config.ProxyConfig;
import dev.tandem.config.ProxyPool;
import dev.tandem.config.ProxyRoute;
import dev.tandem.config.Site;
import dev.tandem.proxy.pool.MemberAddress;
import dev.tandem.proxy.tls.PemKeyStore;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.security.interfaces.RSAKey;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/** The {@code proxy} section's own checks: ports, every route's pool, every member's address and site, every certificate. */
public final class ProxyConfigRule implements ConfigRule {
    private static final Pattern NAME = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");
    private static final Pattern HOST = Pattern.compile("(\\*\\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.?");

    @Override
    public void check(ClusterConfig config, Errors errors) {
        ProxyConfig proxy = config.proxy();
        port("proxy.http_port", proxy.httpPort(), errors);
        port("proxy.https_port", proxy.httpsPort(), errors);
        if (proxy.httpPort().equals(proxy.httpsPort())) errors.add("proxy.https_port", "the same port as http_port");
        Set<String> sites = new HashSet<>(config.sites().stream().map(Site::name).toList());
        for (int i = 0; i < proxy.sitePreference().size(); i++) {
            String site = proxy.sitePreference().get(i);
            if (!sites.contains(site)) errors.add("proxy.site_preference[" + i + "]", "no site \"" + site + "\"");
        }
        positive("proxy.timeouts.connect", proxy.timeouts().connect(), errors);
        positive("proxy.timeouts.client_idle", proxy.timeouts().clientIdle(), errors);
        positive("proxy.timeouts.backend_idle", proxy.timeouts().backendIdle(), errors);
        range("proxy.limits.max_connections", proxy.limits().maxConnections(), 1, 1_000_000, errors);
        range("proxy.limits.max_header_bytes", proxy.limits().maxHeaderBytes(), 1024, 1 << 20, errors);
        if (proxy.limits().maxBodyBytes() < 0) errors.add("proxy.limits.max_body_bytes", "must be 0 (no limit) or more");
        checkCertificates(proxy.certificates(), errors);
        Set<String> pools = checkPools(proxy.pools(), sites, errors);
        checkRoutes(proxy.routes(), pools, errors);
    }

    private static void checkCertificates(List<ProxyCertificate> certificates, Errors errors) {
        Set<String> names = new HashSet<>();
        for (int i = 0; i < certificates.size(); i++) {
            ProxyCertificate c = certificates.get(i);
            String path = "proxy.certificates[" + i + "]";
            name(path + ".name", c.name(), names, "certificate", errors);
            X509Certificate leaf = null;
            PrivateKey key = null;
            try {
                leaf = PemKeyStore.chain(c.cert()).get(0);
            } catch (IllegalArgumentException e) {
                errors.add(path + ".cert", e.getMessage());
            }
            try {
                key = PemKeyStore.key(c.key());
            } catch (IllegalArgumentException e) {
                errors.add(path + ".key", e.getMessage());
            }
            if (leaf != null && key != null && !matches(leaf, key)) {
                errors.add(path + ".key", "is not the private key of the certificate (" + leaf.getSubjectX500Principal().getName() + ")");
            }
        }
    }

    /** The key belongs to the certificate: the same RSA modulus, or for other keys a signature the certificate verifies. */
    private static boolean matches(X509Certificate cert, PrivateKey key) {
        if (cert.getPublicKey() instanceof RSAKey p) return key instanceof RSAKey k && p.getModulus().equals(k.getModulus());
        return signs(cert, key);
    }

    /** For keys without a cheap comparison: sign a nonce with the key and verify it with the certificate. */
    private static boolean signs(X509Certificate cert, PrivateKey key) {
        try {
            String algorithm = switch (key.getAlgorithm()) {
                case "EC", "ECDSA" -> "SHA256withECDSA";
                case "RSA" -> "SHA256withRSA";
                default -> key.getAlgorithm(); // Ed25519, Ed448
            };
            byte[] nonce = "tandem-proxy-key-check".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            var signer = java.security.Signature.getInstance(algorithm);
            signer.initSign(key);
            signer.update(nonce);
            byte[] signature = signer.sign();
            var verifier = java.security.Signature.getInstance(algorithm);
            verifier.initVerify(cert.getPublicKey());
            verifier.update(nonce);
            return verifier.verify(signature);
        } catch (java.security.GeneralSecurityException e) {
            return false;
        }
    }

    private static Set<String> checkPools(List<ProxyPool> pools, Set<String> sites, Errors errors) {
        Set<String> names = new HashSet<>();
        for (int i = 0; i < pools.size(); i++) {
            ProxyPool pool = pools.get(i);
            String path = "proxy.pools[" + i + "]";
            name(path + ".name", pool.name(), names, "pool", errors);
            Set<String> members = new HashSet<>();
            for (int j = 0; j < pool.members().size(); j++) {
                ProxyPool.Member m = pool.members().get(j);
                String at = path + ".members[" + j + "]";
                name(at + ".name", m.name(), members, "member", errors);
                try {
                    MemberAddress.parse(m.address());
                } catch (IllegalArgumentException e) {
                    errors.add(at + ".address", e.getMessage());
                }
                if (m.site() == null) {
                    errors.add(at + ".site", "missing: a member's site decides which proxies prefer it");
                } else if (!sites.contains(m.site())) {
                    errors.add(at + ".site", "no site \"" + m.site() + "\"");
                }
                range(at + ".weight", m.weight(), 1, 1000, errors);
            }
            ProxyPool.Check check = pool.check();
            if (!check.path().startsWith("/")) errors.add(path + ".check.path", "\"" + check.path() + "\" must start with /");
            range(path + ".check.expect_status", check.expectStatus(), 100, 599, errors);
            if (check.interval().compareTo(Duration.ofMillis(100)) < 0) errors.add(path + ".check.interval", "at least 100ms");
            positive(path + ".check.timeout", check.timeout(), errors);
            range(path + ".check.fall", check.fall(), 1, 100, errors);
            range(path + ".check.rise", check.rise(), 1, 100, errors);
            range(path + ".passive.failures", pool.passive().failures(), 0, 1000, errors);
            positive(path + ".passive.eject", pool.passive().eject(), errors);
        }
        return names;
    }

    private static void checkRoutes(List<ProxyRoute> routes, Set<String> pools, Errors errors) {
        Set<String> names = new HashSet<>();
        Set<String> claimed = new HashSet<>();
        for (int i = 0; i < routes.size(); i++) {
            ProxyRoute route = routes.get(i);
            String path = "proxy.routes[" + i + "]";
            name(path + ".name", route.name(), names, "route", errors);
            if (route.pool() == null) {
                errors.add(path + ".pool", "missing");
            } else if (!pools.contains(route.pool())) {
                errors.add(path + ".pool", "no pool \"" + route.pool() + "\" (there are: " + (pools.isEmpty() ? "none" : String.join(", ", pools)) + ")");
            }
            if (!route.path().startsWith("/")) errors.add(path + ".path", "\"" + route.path() + "\" must start with /");
            List<String> hosts = route.hosts().isEmpty() ? List.of("") : route.hosts();
            for (int j = 0; j < route.hosts().size(); j++) {
                String host = route.hosts().get(j);
                if (host == null || !HOST.matcher(host.toLowerCase(java.util.Locale.ROOT)).matches()) {
                    errors.add(path + ".hosts[" + j + "]", "\"" + host + "\" is not a host name (www.example.com, or *.example.com for its subdomains)");
                }
            }
            for (String host : hosts) {
                String key = (host == null ? "" : host.toLowerCase(java.util.Locale.ROOT)) + " " + route.path();
                if (!claimed.add(key)) {
                    errors.add(path, "another route already takes " + (host == null || host.isEmpty() ? "any host" : host) + " with path " + route.path());
                }
            }
        }
    }

    private static void name(String path, String name, Set<String> seen, String what, Errors errors) {
        if (name == null) {
            errors.add(path, "missing");
        } else if (!NAME.matcher(name).matches()) {
            errors.add(path, "\"" + name + "\" is not a valid name (lower-case letters, digits and '-', up to 63)");
        } else if (!seen.add(name)) {
            errors.add(path, "duplicate " + what + " \"" + name + "\"");
        }
    }

    private static void port(String path, int port, Errors errors) {
        range(path, port, 1, 65535, errors);
    }

    private static void range(String path, long value, long min, long max, Errors errors) {
        if (value < min || value > max) errors.add(path, value + " is out of range (" + min + "-" + max + ")");
    }

    private static void positive(String path, Duration d, Errors errors) {
        if (d.isZero() || d.isNegative()) errors.add(path, "must be more than 0");
    }
}
