package dev.tandem.proxy.tls;

import dev.tandem.config.ProxyCertificate;
import java.io.IOException;
import java.io.StringReader;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;

/**
 * The proxy's certificates, from the PEM text in the replicated config, as an in-memory key store:
 * one entry per certificate, so Jetty's SNI selection can pick among them by the names they carry.
 */
public final class PemKeyStore {
    /** Only ever in memory; the key store needs some password. */
    public static final String PASSWORD = "tandem";

    private PemKeyStore() {}

    public static KeyStore of(List<ProxyCertificate> certificates) throws GeneralSecurityException {
        KeyStore store = KeyStore.getInstance("PKCS12");
        try {
            store.load(null, null);
        } catch (IOException e) {
            throw new GeneralSecurityException(e);
        }
        for (ProxyCertificate c : certificates) {
            List<X509Certificate> chain = chain(c.cert());
            store.setKeyEntry(c.name(), key(c.key()), PASSWORD.toCharArray(), chain.toArray(new Certificate[0]));
        }
        return store;
    }

    /** The certificates in the PEM text, leaf first; an {@link IllegalArgumentException} says what is wrong. */
    public static List<X509Certificate> chain(String pem) {
        if (pem == null || pem.isBlank()) throw new IllegalArgumentException("missing");
        List<X509Certificate> chain = new ArrayList<>();
        try (PEMParser parser = new PEMParser(new StringReader(pem))) {
            JcaX509CertificateConverter converter = new JcaX509CertificateConverter();
            for (Object o; (o = parser.readObject()) != null; ) {
                if (!(o instanceof X509CertificateHolder holder)) {
                    throw new IllegalArgumentException("holds a " + o.getClass().getSimpleName() + " where only certificates belong");
                }
                chain.add(converter.getCertificate(holder));
            }
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalArgumentException("is not PEM certificates: " + e.getMessage());
        }
        if (chain.isEmpty()) throw new IllegalArgumentException("holds no \"-----BEGIN CERTIFICATE-----\" block");
        return chain;
    }

    /** The private key in the PEM text (PKCS#8 or the traditional RSA/EC form, unencrypted). */
    public static PrivateKey key(String pem) {
        if (pem == null || pem.isBlank()) throw new IllegalArgumentException("missing");
        try (PEMParser parser = new PEMParser(new StringReader(pem))) {
            Object o = parser.readObject();
            JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
            if (o instanceof PEMKeyPair pair) return converter.getPrivateKey(pair.getPrivateKeyInfo());
            if (o instanceof PrivateKeyInfo info) return converter.getPrivateKey(info);
            throw new IllegalArgumentException(o == null ? "holds no private key block"
                    : "holds a " + o.getClass().getSimpleName() + ", not an unencrypted private key");
        } catch (IOException e) {
            throw new IllegalArgumentException("is not a PEM private key: " + e.getMessage());
        }
    }
}
