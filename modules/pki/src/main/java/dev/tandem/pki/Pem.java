package dev.tandem.pki;

import java.io.IOException;
import java.io.Reader;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;

/** PEM files for certificates and private keys; keys are written readable by their owner only. */
public final class Pem {
    private Pem() {}

    public static void writeCertificate(Path file, X509Certificate certificate) throws IOException {
        Files.writeString(file, encode(certificate));
    }

    public static void writePrivateKey(Path file, PrivateKey key) throws IOException {
        Files.deleteIfExists(file);
        Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        // PKCS#8 ("BEGIN PRIVATE KEY"): what OpenSSL, OpenVPN and Jetty all read
        Files.writeString(file, encode(new JcaPKCS8Generator(key, null)));
    }

    private static String encode(Object object) throws IOException {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter pem = new JcaPEMWriter(out)) {
            pem.writeObject(object);
        }
        return out.toString();
    }

    public static X509Certificate readCertificate(Path file) throws IOException {
        Object object = readObject(file);
        if (!(object instanceof X509CertificateHolder holder)) {
            throw new IOException(file + " does not hold a PEM certificate");
        }
        try {
            return new JcaX509CertificateConverter().getCertificate(holder);
        } catch (CertificateException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
    }

    public static PrivateKey readPrivateKey(Path file) throws IOException {
        Object object = readObject(file);
        JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
        if (object instanceof PrivateKeyInfo info) return converter.getPrivateKey(info);
        if (object instanceof PEMKeyPair pair) return converter.getKeyPair(pair).getPrivate();
        throw new IOException(file + " does not hold an unencrypted PEM private key");
    }

    private static Object readObject(Path file) throws IOException {
        try (Reader reader = Files.newBufferedReader(file);
                PEMParser parser = new PEMParser(reader)) {
            Object object = parser.readObject();
            if (object == null) throw new IOException(file + " holds no PEM object");
            return object;
        }
    }
}
