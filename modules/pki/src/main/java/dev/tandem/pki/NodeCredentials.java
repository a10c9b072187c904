package dev.tandem.pki;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;

/** A node's certificate and key, and the cluster CA that vouches for it: the contents of a node's {@code tls/}. */
public record NodeCredentials(X509Certificate certificate, PrivateKey key, X509Certificate ca) {
    public static final String NODE_CERT = "node.pem";
    public static final String NODE_KEY = "node.key";

    public void write(Path directory) throws IOException {
        Files.createDirectories(directory);
        Pem.writeCertificate(directory.resolve(CertificateAuthority.CA_CERT), ca);
        Pem.writeCertificate(directory.resolve(NODE_CERT), certificate);
        Pem.writePrivateKey(directory.resolve(NODE_KEY), key);
    }

    public static NodeCredentials read(Path directory) throws IOException {
        return new NodeCredentials(
                Pem.readCertificate(directory.resolve(NODE_CERT)),
                Pem.readPrivateKey(directory.resolve(NODE_KEY)),
                Pem.readCertificate(directory.resolve(CertificateAuthority.CA_CERT)));
    }

    /** The CN of the certificate, which is the node name. */
    public String nodeName() {
        return commonName(certificate);
    }

    static String commonName(X509Certificate certificate) {
        String dn = certificate.getSubjectX500Principal().getName();
        for (String part : dn.split(",")) {
            if (part.startsWith("CN=")) return part.substring(3);
        }
        return dn;
    }
}
