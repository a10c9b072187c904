package dev.tandem.pki;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * The cluster's own CA. It signs one certificate per node; the control plane trusts nothing else.
 * Keys are ECDSA P-256.
 */
public final class CertificateAuthority {
    public static final String CA_CERT = "ca.pem";
    public static final String CA_KEY = "ca.key";

    private static final Duration CA_LIFETIME = Duration.ofDays(3650);
    private static final Duration NODE_LIFETIME = Duration.ofDays(825);
    private static final SecureRandom RANDOM = new SecureRandom();

    private final X509Certificate certificate;
    private final PrivateKey key;

    private CertificateAuthority(X509Certificate certificate, PrivateKey key) {
        this.certificate = certificate;
        this.key = key;
    }

    public static CertificateAuthority create(String clusterName) throws GeneralSecurityException {
        KeyPair pair = newKeyPair();
        X500Name subject = new X500Name("CN=Tandem cluster CA " + clusterName + ",O=Tandem");
        Instant now = Instant.now();
        try {
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(subject, serial(),
                            Date.from(now.minus(Duration.ofMinutes(5))), Date.from(now.plus(CA_LIFETIME)), subject, pair.getPublic())
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(0))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
                    .addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(pair.getPublic()));
            return new CertificateAuthority(sign(builder, pair.getPrivate()), pair.getPrivate());
        } catch (IOException e) {
            throw new GeneralSecurityException(e);
        }
    }

    public static CertificateAuthority load(Path directory) throws IOException {
        return new CertificateAuthority(
                Pem.readCertificate(directory.resolve(CA_CERT)), Pem.readPrivateKey(directory.resolve(CA_KEY)));
    }

    public void write(Path directory) throws IOException {
        Files.createDirectories(directory);
        Pem.writeCertificate(directory.resolve(CA_CERT), certificate);
        Pem.writePrivateKey(directory.resolve(CA_KEY), key);
    }

    public X509Certificate certificate() {
        return certificate;
    }

    /** Issues a certificate for a node: CN is the node name, the SANs its addresses; usable as TLS client and server. */
    public NodeCredentials issue(String nodeName, List<String> ipAddresses) throws GeneralSecurityException {
        KeyPair pair = newKeyPair();
        Instant now = Instant.now();
        try {
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            GeneralName[] sans = ipAddresses.stream()
                    .map(ip -> new GeneralName(GeneralName.iPAddress, ip))
                    .toArray(GeneralName[]::new);
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(certificate, serial(),
                            Date.from(now.minus(Duration.ofMinutes(5))), Date.from(now.plus(NODE_LIFETIME)),
                            new X500Name("CN=" + nodeName + ",O=Tandem"), pair.getPublic())
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyAgreement))
                    .addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(
                            new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}))
                    .addExtension(Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(certificate))
                    .addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(pair.getPublic()));
            if (sans.length > 0) builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(sans));
            return new NodeCredentials(sign(builder, key), pair.getPrivate(), certificate);
        } catch (IOException e) {
            throw new GeneralSecurityException(e);
        }
    }

    private static KeyPair newKeyPair() throws GeneralSecurityException {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
        return generator.generateKeyPair();
    }

    private static BigInteger serial() {
        return new BigInteger(127, RANDOM);
    }

    private static X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey signer) throws GeneralSecurityException {
        try {
            return new JcaX509CertificateConverter()
                    .getCertificate(builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(signer)));
        } catch (OperatorCreationException e) {
            throw new GeneralSecurityException(e);
        }
    }
}
