package dev.tandem.shell.ssh;

import dev.tandem.shell.AuditSink;
import dev.tandem.shell.CliSessions;
import dev.tandem.shell.UserDirectory;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.sshd.common.NamedFactory;
import org.apache.sshd.common.NamedResource;
import org.apache.sshd.common.cipher.BuiltinCiphers;
import org.apache.sshd.common.cipher.Cipher;
import org.apache.sshd.common.compression.BuiltinCompressions;
import org.apache.sshd.common.compression.Compression;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.config.keys.PublicKeyEntry;
import org.apache.sshd.common.kex.BuiltinDHFactories;
import org.apache.sshd.common.kex.KeyExchangeFactory;
import org.apache.sshd.common.keyprovider.KeyPairProvider;
import org.apache.sshd.common.mac.BuiltinMacs;
import org.apache.sshd.common.mac.Mac;
import org.apache.sshd.common.signature.BuiltinSignatures;
import org.apache.sshd.common.signature.Signature;
import org.apache.sshd.core.CoreModuleProperties;
import org.apache.sshd.server.ServerBuilder;
import org.apache.sshd.server.SshServer;
import org.apache.sshd.server.auth.pubkey.UserAuthPublicKeyFactory;
import org.apache.sshd.server.channel.ChannelSessionFactory;
import org.apache.sshd.server.forward.RejectAllForwardingFilter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin shell's SSH server (Apache MINA SSHD): public key logins of the configured users only, modern
 * algorithms only, no forwarding of any kind, no subsystems (SFTP/SCP); a session is either the interactive
 * shell (JLine over the channel) or one exec'd command line, both served by {@link CliSessions}.
 */
public final class SshShellServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SshShellServer.class);

    static final Duration AUTH_TIMEOUT = Duration.ofSeconds(30);
    static final Duration IDLE_TIMEOUT = Duration.ofMinutes(30);
    static final int MAX_AUTH_TRIES = 6;
    static final int MAX_SESSIONS_PER_USER = 16;
    static final int MAX_CHANNELS_PER_SESSION = 10;

    // sntrup761x25519 is left out (MINA's variant does not interoperate with OpenSSH), and so is everything
    // SHA-1 or finite-field; mlkem768x25519 would be the next candidate once clients have it
    static final List<BuiltinDHFactories> KEX = List.of(
            BuiltinDHFactories.curve25519, BuiltinDHFactories.curve25519_libssh,
            BuiltinDHFactories.ecdhp256, BuiltinDHFactories.ecdhp384, BuiltinDHFactories.ecdhp521);
    static final List<BuiltinCiphers> CIPHERS = List.of(
            BuiltinCiphers.cc20p1305_openssh, BuiltinCiphers.aes256gcm, BuiltinCiphers.aes128gcm,
            BuiltinCiphers.aes256ctr, BuiltinCiphers.aes128ctr);
    static final List<BuiltinMacs> MACS = List.of(
            BuiltinMacs.hmacsha512etm, BuiltinMacs.hmacsha256etm, BuiltinMacs.hmacsha512, BuiltinMacs.hmacsha256);
    /** Host key (ours is ed25519) and user key signatures; no ssh-rsa (SHA-1), no DSA, no certificates. */
    static final List<BuiltinSignatures> SIGNATURES = List.of(
            BuiltinSignatures.ed25519, BuiltinSignatures.sk_ssh_ed25519,
            BuiltinSignatures.nistp256, BuiltinSignatures.nistp384, BuiltinSignatures.nistp521,
            BuiltinSignatures.sk_ecdsa_sha2_nistp256,
            BuiltinSignatures.rsaSHA512, BuiltinSignatures.rsaSHA256);

    private final SshServer sshd;
    private final ExecutorService sessions;
    private final ExecutorService auditor;
    private final String hostKeyLine;
    private final AtomicBoolean closed = new AtomicBoolean();
    private int port;

    private SshShellServer(SshServer sshd, ExecutorService sessions, ExecutorService auditor, String hostKeyLine) {
        this.sshd = sshd;
        this.sessions = sessions;
        this.auditor = auditor;
        this.hostKeyLine = hostKeyLine;
    }

    /**
     * Starts the server on {@code host:port} (port 0: any free port, see {@link #port()}), with the host key in
     * {@code hostKeyFile} (created with its parent directories on first start, reused after).
     */
    public static SshShellServer start(String host, int port, Path hostKeyFile, UserDirectory users, CliSessions cli,
            AuditSink audit) throws IOException {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(hostKeyFile, "hostKeyFile");
        Objects.requireNonNull(users, "users");
        Objects.requireNonNull(cli, "cli");
        Objects.requireNonNull(audit, "audit");
        if (host.isBlank()) {
            throw new IllegalArgumentException("the SSH shell needs an address to bind (blank would mean all of them)");
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("bad SSH port " + port);
        }
        KeyPair hostKey = HostKey.loadOrCreate(hostKeyFile);

        SshServer sshd = SshServer.setUpDefaultServer();
        sshd.setHost(host);
        sshd.setPort(port);
        sshd.setKeyPairProvider(KeyPairProvider.wrap(hostKey));

        sshd.setKeyExchangeFactories(KEX.stream().filter(BuiltinDHFactories::isSupported)
                .map(ServerBuilder.DH2KEX).map(KeyExchangeFactory.class::cast).toList());
        sshd.setCipherFactories(supported(CIPHERS));
        sshd.setMacFactories(supported(MACS));
        sshd.setSignatureFactories(supported(SIGNATURES));
        sshd.setCompressionFactories(List.<NamedFactory<Compression>>of(BuiltinCompressions.none));

        ExecutorService auditor = Executors.newSingleThreadExecutor(daemonThreads("ssh-audit"));
        LoginGuard guard = new LoginGuard(users, audit, auditor, new LoginThrottle());
        sshd.setUserAuthFactories(List.of(UserAuthPublicKeyFactory.INSTANCE));
        sshd.setPublickeyAuthenticator(guard);
        sshd.setPasswordAuthenticator(null);
        sshd.setKeyboardInteractiveAuthenticator(null);
        sshd.setHostBasedAuthenticator(null);
        sshd.setGSSAuthenticator(null);
        sshd.addSessionListener(guard);

        sshd.setChannelFactories(List.of(ChannelSessionFactory.INSTANCE)); // no direct-tcpip channels
        sshd.setForwardingFilter(RejectAllForwardingFilter.INSTANCE); // no -L/-R/-D, agent or X11 forwarding
        sshd.setAgentFactory(null);
        sshd.setSubsystemFactories(List.of()); // no sftp/scp

        CoreModuleProperties.AUTH_TIMEOUT.set(sshd, AUTH_TIMEOUT);
        CoreModuleProperties.IDLE_TIMEOUT.set(sshd, IDLE_TIMEOUT);
        CoreModuleProperties.NIO2_READ_TIMEOUT.set(sshd, Duration.ZERO); // the idle timeout does this job
        CoreModuleProperties.MAX_AUTH_REQUESTS.set(sshd, MAX_AUTH_TRIES);
        CoreModuleProperties.MAX_CONCURRENT_SESSIONS.set(sshd, MAX_SESSIONS_PER_USER);
        CoreModuleProperties.MAX_CONCURRENT_CHANNELS.set(sshd, MAX_CHANNELS_PER_SESSION);

        ExecutorService sessions = new ThreadPoolExecutor(0, Integer.MAX_VALUE, 60, TimeUnit.SECONDS,
                new SynchronousQueue<>(), daemonThreads("ssh-session"));
        sshd.setShellFactory(channel -> new InteractiveCommand(cli, sessions));
        sshd.setCommandFactory((channel, command) -> new ExecCommand(cli, sessions, command));

        SshShellServer server = new SshShellServer(sshd, sessions, auditor, PublicKeyEntry.toString(hostKey.getPublic()));
        try {
            sshd.start();
            server.port = boundPort(sshd);
        } catch (IOException | RuntimeException e) {
            server.close();
            throw e;
        }
        LOG.info("SSH admin shell listening on {}:{}, host key {} {}", host, server.port,
                KeyUtils.getKeyType(hostKey.getPublic()), KeyUtils.getFingerPrint(hostKey.getPublic()));
        LOG.debug("SSH algorithms: kex {}, ciphers {}, macs {}, signatures {}",
                NamedResource.getNames(sshd.getKeyExchangeFactories()), sshd.getCipherFactoriesNameList(),
                sshd.getMacFactoriesNameList(), sshd.getSignatureFactoriesNameList());
        return server;
    }

    /** The port the server listens on. */
    public int port() {
        return port;
    }

    /** The host key as OpenSSH writes it in known_hosts after the host name: "ssh-ed25519 AAAA...". */
    public String hostKeyLine() {
        return hostKeyLine;
    }

    /** Stops listening and closes every session (the CLI's terminal reads end). Idempotent. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            sshd.stop(true);
        } catch (IOException | RuntimeException e) {
            LOG.warn("stopping the SSH server failed", e);
        }
        sessions.shutdown();
        auditor.shutdown();
        try {
            if (!sessions.awaitTermination(5, TimeUnit.SECONDS)) {
                LOG.warn("SSH shell sessions still running 5 s after the server stopped");
            }
            if (!auditor.awaitTermination(5, TimeUnit.SECONDS)) {
                LOG.warn("SSH login audit records still pending 5 s after the server stopped");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        LOG.info("SSH admin shell on port {} stopped", port);
    }

    @SuppressWarnings("unchecked")
    private static <T, F extends NamedFactory<T>> List<NamedFactory<T>> supported(List<? extends F> factories) {
        return factories.stream()
                .filter(f -> !(f instanceof org.apache.sshd.common.OptionalFeature o) || o.isSupported())
                .map(f -> (NamedFactory<T>) f)
                .toList();
    }

    private static int boundPort(SshServer sshd) throws IOException {
        for (SocketAddress a : sshd.getBoundAddresses()) {
            if (a instanceof InetSocketAddress inet) {
                return inet.getPort();
            }
        }
        throw new IOException("the SSH server is bound to nothing");
    }

    private static ThreadFactory daemonThreads(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }
}
