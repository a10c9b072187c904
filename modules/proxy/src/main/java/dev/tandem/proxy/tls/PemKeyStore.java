package dev.tandem.proxy.tls;

import dev.tandem.config.ProxyCertificate;
import java.io.IOException;
import java.io.StringReader;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;

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
            if (o instanceof PEMKeyPair pair) return jdkKey(pair.getPrivateKeyInfo());
            if (o instanceof PrivateKeyInfo info) return jdkKey(info);
            throw new IllegalArgumentException(o == null ? "holds no private key block"
                    : "holds a " + o.getClass().getSimpleName() + ", not an unencrypted private key");
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalArgumentException("is not a PEM private key: " + e.getMessage());
        }
    }

    /**
     * The key as the JDK's own providers make it, whatever providers are installed: once BouncyCastle
     * is registered (the SSH server does that), BouncyCastle's converter would label an EC key "ECDSA".
     */
    private static PrivateKey jdkKey(PrivateKeyInfo info) throws GeneralSecurityException, IOException {
        String oid = info.getPrivateKeyAlgorithm().getAlgorithm().getId();
        String algorithm = switch (oid) {
            case "1.2.840.113549.1.1.1" -> "RSA";
            case "1.2.840.10045.2.1" -> "EC";
            case "1.3.101.112" -> "Ed25519";
            case "1.3.101.113" -> "Ed448";
            default -> throw new IllegalArgumentException("holds a key of a type TLS here does not use (" + oid + "): use RSA or EC");
        };
        return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(info.getEncoded()));
    }
}
