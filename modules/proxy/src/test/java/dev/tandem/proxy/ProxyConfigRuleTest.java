package dev.tandem.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.config.ClusterConfig;
import dev.tandem.config.ConfigRule;
import dev.tandem.config.ProxyCertificate;
import dev.tandem.config.ProxyConfig;
import dev.tandem.config.ProxyPool;
import dev.tandem.config.ProxyRoute;
import dev.tandem.config.Site;
import dev.tandem.proxy.tls.TestCertificates;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ProxyConfigRuleTest {
    @Test
    void aGoodSectionPasses() throws Exception {
        ProxyConfig proxy = new ProxyConfig(8080, 8443, List.of("site-b"), null, null,
                List.of(TestCertificates.selfSigned("www", "www.example.com")),
                List.of(new ProxyRoute("www", List.of("www.example.com", "*.example.com"), "/", "www")),
                List.of(new ProxyPool("www", null, List.of(new ProxyPool.Member("a", "10.0.0.1:80", "site-a", null, null),
                        new ProxyPool.Member("b", "[2001:db8::1]:8080", "site-b", 2, false)), null, null)), null);
        assertThat(errors(proxy)).isEmpty();
    }

    @Test
    void eachProblemIsReportedWithItsPath() {
        ProxyConfig proxy = new ProxyConfig(8080, 8080, List.of("site-x"), null, null, null,
                List.of(new ProxyRoute("www", List.of("bad host!"), "api", "nope"),
                        new ProxyRoute("www", null, null, "www"),
                        new ProxyRoute("other", null, null, "www")),
                List.of(new ProxyPool("www", null, List.of(new ProxyPool.Member("a", "web1:80", "site-a", 0, null),
                        new ProxyPool.Member("a", "10.0.0.1:99999", null, null, null)), null, null)), null);
        assertThat(errors(proxy)).containsExactlyInAnyOrder(
                "proxy.https_port: the same port as http_port",
                "proxy.site_preference[0]: no site \"site-x\"",
                "proxy.pools[0].members[0].address: \"web1:80\" is not IP:PORT (e.g. 10.0.0.5:8000 or [2001:db8::5]:8000; host names are not resolved)",
                "proxy.pools[0].members[0].weight: 0 is out of range (1-1000)",
                "proxy.pools[0].members[1].name: duplicate member \"a\"",
                "proxy.pools[0].members[1].address: \"10.0.0.1:99999\": 99999 is not a port (1-65535)",
                "proxy.pools[0].members[1].site: missing: a member's site decides which proxies prefer it",
                "proxy.routes[0].pool: no pool \"nope\" (there are: www)",
                "proxy.routes[0].path: \"api\" must start with /",
                "proxy.routes[0].hosts[0]: \"bad host!\" is not a host name (www.example.com, or *.example.com for its subdomains)",
                "proxy.routes[1].name: duplicate route \"www\"",
                "proxy.routes[2]: another route already takes any host with path /");
    }

    @Test
    void aCertificateMustParseAndMatchItsKey() throws Exception {
        ProxyCertificate good = TestCertificates.selfSigned("good", "a.example.com");
        ProxyCertificate other = TestCertificates.selfSigned("other", "b.example.com");
        ProxyConfig proxy = new ProxyConfig(null, null, null, null, null, List.of(
                new ProxyCertificate("mixed", good.cert(), other.key()),
                new ProxyCertificate("garbage", "not pem", good.key()),
                new ProxyCertificate("nokey", good.cert(), good.cert())), null, null, null);
        assertThat(errors(proxy)).containsExactlyInAnyOrder(
                "proxy.certificates[0].key: is not the private key of the certificate (CN=a.example.com)",
                "proxy.certificates[1].cert: holds no \"-----BEGIN CERTIFICATE-----\" block",
                "proxy.certificates[2].key: holds a X509CertificateHolder, not an unencrypted private key");
    }

    @Test
    void anEcKeyMatchesItsCertificateAlsoWithBouncyCastleInstalled() throws Exception {
        // the SSH server registers BouncyCastle; its converter would call the key "ECDSA" and the certificate's "EC"
        java.security.Security.addProvider(new org.bouncycastle.jce.provider.BouncyCastleProvider());
        try {
            ProxyCertificate ec = TestCertificates.selfSigned("ec", "ec.example.com");
            ProxyConfig proxy = new ProxyConfig(null, null, null, null, null, List.of(ec), null, null, null);
            assertThat(errors(proxy)).isEmpty();
        } finally {
            java.security.Security.removeProvider("BC");
        }
    }

    private static List<String> errors(ProxyConfig proxy) {
        ClusterConfig config = new ClusterConfig(1, null, List.of(new Site("site-a", null), new Site("site-b", null)), List.of(), List.of(),
                null, proxy, null, null);
        List<String> errors = new ArrayList<>();
        new ProxyConfigRule().check(config, (path, message) -> errors.add(path + ": " + message));
        return errors;
    }

    @Test
    void theRuleIsInstalled() {
        assertThat(ConfigRule.installed()).anyMatch(r -> r instanceof ProxyConfigRule);
    }
}
