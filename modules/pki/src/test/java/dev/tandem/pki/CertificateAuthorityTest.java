package dev.tandem.pki;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CertificateAuthorityTest {
    @TempDir
    Path dir;

    @Test
    void issuedCredentialsSurviveAWriteAndReadAndChainToTheCa() throws Exception {
        CertificateAuthority ca = CertificateAuthority.create("demo");
        ca.write(dir.resolve("ca"));
        CertificateAuthority reloaded = CertificateAuthority.load(dir.resolve("ca"));
        NodeCredentials node = reloaded.issue("a1", List.of("127.0.1.1"));
        node.write(dir.resolve("a1"));

        NodeCredentials read = NodeCredentials.read(dir.resolve("a1"));
        assertThat(read.nodeName()).isEqualTo("a1");
        read.certificate().verify(ca.certificate().getPublicKey());
        assertThat(read.certificate().getSubjectAlternativeNames()).extracting(san -> (Object) san.get(1)).containsExactly((Object) "127.0.1.1");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("a1/node.key")))).isEqualTo("rw-------");
        assertThat(MutualTls.context(read).getProtocol()).isEqualTo("TLSv1.3");
    }

    @Test
    void aForeignCaDoesNotVerify() throws Exception {
        NodeCredentials stranger = CertificateAuthority.create("other").issue("x1", List.of());
        CertificateAuthority ours = CertificateAuthority.create("demo");
        assertThatThrownBy(() -> stranger.certificate().verify(ours.certificate().getPublicKey()))
                .isInstanceOf(java.security.SignatureException.class);
    }

    @Test
    void aMissingFileIsNamed() {
        assertThatThrownBy(() -> NodeCredentials.read(dir.resolve("nowhere")))
                .hasMessageContaining("nowhere");
    }
}
