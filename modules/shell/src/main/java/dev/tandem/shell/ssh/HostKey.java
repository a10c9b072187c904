package dev.tandem.shell.ssh;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.util.Iterator;
import java.util.Set;
import org.apache.sshd.common.NamedResource;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.config.keys.writer.openssh.OpenSSHKeyPairResourceWriter;
import org.apache.sshd.common.keyprovider.KeyPairProvider;
import org.apache.sshd.common.util.security.SecurityUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's SSH host key: an ed25519 key in an unencrypted OpenSSH private key file (what {@code ssh-keygen}
 * writes), generated on first start and reused for ever after.
 *
 * <p>An existing file that cannot be read is an error, never a reason to generate a new key: a silently changed
 * host key would make every operator's {@code known_hosts} scream (or, worse, teach them to ignore it).
 */
final class HostKey {
    private static final Logger LOG = LoggerFactory.getLogger(HostKey.class);
    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");
    private static final String COMMENT = "tandem-host-key";

    private HostKey() {}

    static KeyPair loadOrCreate(Path file) throws IOException {
        Path path = file.toAbsolutePath();
        if (Files.exists(path)) {
            return load(path);
        }
        return create(path);
    }

    private static KeyPair load(Path path) throws IOException {
        tightenPermissions(path);
        try (InputStream in = Files.newInputStream(path)) {
            Iterable<KeyPair> pairs = SecurityUtils.loadKeyPairIdentities(null, NamedResource.ofName(path.toString()), in, null);
            Iterator<KeyPair> it = pairs == null ? null : pairs.iterator();
            if (it == null || !it.hasNext()) {
                throw new IOException("SSH host key file " + path
                        + " holds no key (not regenerating it: fix or remove the file)");
            }
            KeyPair pair = it.next();
            String type = KeyUtils.getKeyType(pair);
            if (!KeyPairProvider.SSH_ED25519.equals(type)) {
                LOG.warn("SSH host key {} is a {} key, not ssh-ed25519; using it anyway", path, type);
            }
            LOG.info("SSH host key {} loaded: {} {}", path, type, KeyUtils.getFingerPrint(pair.getPublic()));
            return pair;
        } catch (GeneralSecurityException | RuntimeException e) {
            throw new IOException("cannot read the SSH host key " + path
                    + " (not regenerating it: fix or remove the file): " + e.getMessage(), e);
        }
    }

    private static KeyPair create(Path path) throws IOException {
        KeyPair pair;
        try {
            pair = KeyUtils.generateKeyPair(KeyPairProvider.SSH_ED25519, 256);
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot generate an ed25519 SSH host key (is BouncyCastle on the class path?)", e);
        }
        Path dir = path.getParent();
        Files.createDirectories(dir);
        boolean posix = FileSystems.getDefault().supportedFileAttributeViews().contains("posix");
        FileAttribute<?>[] attrs = posix
                ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(OWNER_ONLY)}
                : new FileAttribute<?>[0];
        // written next to the target, synced, then renamed: a crash never leaves a half-written key behind
        Path tmp = Files.createTempFile(dir, "." + path.getFileName(), ".tmp", attrs);
        try {
            try (OutputStream out = Files.newOutputStream(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                new OpenSSHKeyPairResourceWriter().writePrivateKey(pair, COMMENT, null, out);
            }
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                ch.force(true);
            }
            try {
                Files.move(tmp, path, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, path);
            }
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot write the SSH host key " + path, e);
        } finally {
            Files.deleteIfExists(tmp);
        }
        LOG.info("SSH host key generated in {}: ssh-ed25519 {}", path, KeyUtils.getFingerPrint(pair.getPublic()));
        return pair;
    }

    private static void tightenPermissions(Path path) throws IOException {
        if (!FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
            return;
        }
        Set<PosixFilePermission> perms = Files.getPosixFilePermissions(path);
        if (!OWNER_ONLY.containsAll(perms)) {
            LOG.warn("SSH host key {} was readable by others ({}); setting it to rw-------",
                    path, PosixFilePermissions.toString(perms));
            Files.setPosixFilePermissions(path, OWNER_ONLY);
        }
    }
}
