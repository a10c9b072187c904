package dev.tandem.health;

import java.security.cert.X509Certificate;
import javax.net.ssl.X509TrustManager;

/**
 * Accepts any server certificate. Only for health checks, which ask "does it answer", not "is it who
 * it says": a member's certificate may be self-signed or name another host.
 */
public final class TrustAnyCertificate implements X509TrustManager {
    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return new X509Certificate[0];
    }
}
