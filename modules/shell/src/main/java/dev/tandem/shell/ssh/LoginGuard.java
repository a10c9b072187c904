package dev.tandem.shell.ssh;

import dev.tandem.config.User;
import dev.tandem.shell.AuditSink;
import dev.tandem.shell.ShellUser;
import dev.tandem.shell.UserDirectory;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.security.PublicKey;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import org.apache.sshd.common.AttributeRepository.AttributeKey;
import org.apache.sshd.common.config.keys.AuthorizedKeyEntry;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.config.keys.PublicKeyEntryResolver;
import org.apache.sshd.common.kex.KexProposalOption;
import org.apache.sshd.common.session.Session;
import org.apache.sshd.common.session.SessionListener;
import org.apache.sshd.server.auth.pubkey.PublickeyAuthenticator;
import org.apache.sshd.server.session.ServerSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Public key authentication against the {@link UserDirectory} (read at every attempt), with the login audit
 * trail and the per-address back-off.
 *
 * <p>A connection that offers keys which are refused and never logs in is one failed login: it is logged at WARN
 * (user, address, every refused key's fingerprint, why) and audited once as {@code login.refused} when the
 * connection ends, and counted once against the address. So is one that offered an authorized key but never
 * proved it holds it (MINA asks us before it checks the signature). A connection whose first key is refused but
 * whose next key is accepted (an agent holding several keys) is a plain successful login.
 */
final class LoginGuard implements PublickeyAuthenticator, SessionListener {
    private static final Logger LOG = LoggerFactory.getLogger(LoginGuard.class);

    /** The user a session authenticated as; set by the authenticator, read by the shell and exec commands. */
    static final AttributeKey<ShellUser> USER = new AttributeKey<>();
    private static final AttributeKey<Attempts> ATTEMPTS = new AttributeKey<>();
    private static final int MAX_WARNED_LINES = 1000;

    private final UserDirectory users;
    private final AuditSink audit;
    private final Executor auditor;
    private final LoginThrottle throttle;
    private final Set<String> warnedLines = ConcurrentHashMap.newKeySet();

    /** @param auditor runs the audit records, in order, off the MINA I/O threads (the sink writes to the store) */
    LoginGuard(UserDirectory users, AuditSink audit, Executor auditor, LoginThrottle throttle) {
        this.users = users;
        this.audit = audit;
        this.auditor = auditor;
        this.throttle = throttle;
    }

    /** What the refused attempts of one connection were. */
    private static final class Attempts {
        String user;
        String reason;
        final Set<String> fingerprints = new LinkedHashSet<>();
        boolean duringBackoff;
        /** A user whose authorized key was offered: MINA asks us before it checks the signature. */
        String candidate;
        String matchedFingerprint;
    }

    @Override
    public boolean authenticate(String username, PublicKey key, ServerSession session) {
        String address = address(session);
        Attempts attempts = attempts(session);
        String fingerprint = KeyUtils.getFingerPrint(key);

        Duration blocked = throttle.blockedFor(address);
        if (!blocked.isZero()) {
            synchronized (attempts) {
                attempts.duringBackoff = true;
            }
            LOG.debug("SSH key for {} from {} refused without a look: address in back-off for {} s more",
                    username, from(session), blocked.toSeconds());
            return false;
        }

        Optional<User> user;
        try {
            user = users.user(username);
        } catch (RuntimeException e) {
            LOG.error("SSH login of {} from {}: user directory failed", username, from(session), e);
            return refuse(session, attempts, username, fingerprint, "user directory unavailable");
        }
        if (user.isEmpty()) {
            return refuse(session, attempts, username, fingerprint, "unknown user");
        }
        User u = user.get();
        if (u.role() == null) {
            return refuse(session, attempts, username, fingerprint, "user has no role");
        }
        for (String line : u.keys()) {
            PublicKey allowed = parse(u.name(), line);
            if (allowed != null && KeyUtils.compareKeys(allowed, key)) {
                session.setAttribute(USER, new ShellUser(u.name(), u.role(), from(session)));
                synchronized (attempts) {
                    attempts.candidate = u.name();
                    attempts.matchedFingerprint = fingerprint;
                }
                return true;
            }
        }
        return refuse(session, attempts, username, fingerprint, "key not authorized");
    }

    private boolean refuse(ServerSession session, Attempts attempts, String username, String fingerprint, String reason) {
        synchronized (attempts) {
            attempts.user = username;
            attempts.reason = reason;
            if (attempts.fingerprints.size() < 16) {
                attempts.fingerprints.add(fingerprint);
            }
        }
        LOG.debug("SSH key {} for {} from {} refused: {}", fingerprint, username, from(session), reason);
        return false;
    }

    /** The key of an authorized_keys style line, or null (warned about once) if it is not one we accept. */
    private PublicKey parse(String user, String line) {
        if (line == null || line.isBlank() || line.strip().startsWith("#")) {
            return null;
        }
        try {
            AuthorizedKeyEntry entry = AuthorizedKeyEntry.parseAuthorizedKeyEntry(line.strip());
            if (entry == null) {
                return null;
            }
            Map<String, String> options = entry.getLoginOptions();
            if (options != null && !options.isEmpty()) {
                // from=, command=, restrict ... are not enforced here: skipping the key is the only safe reading
                warnOnce(user, line, "has authorized_keys options " + options.keySet() + ", which Tandem does not support");
                return null;
            }
            PublicKey key = entry.resolvePublicKey(null, PublicKeyEntryResolver.FAILING);
            if (key == null) {
                warnOnce(user, line, "is not a public key");
            }
            return key;
        } catch (Exception e) {
            warnOnce(user, line, "cannot be parsed (" + e.getMessage() + ")");
            return null;
        }
    }

    private void warnOnce(String user, String line, String problem) {
        String id = user + '\n' + line;
        if (warnedLines.size() < MAX_WARNED_LINES && warnedLines.add(id)) {
            LOG.warn("SSH key of user {} skipped: the line '{}' {}", user, abbreviate(line), problem);
        }
    }

    // --- session events

    @Override
    public void sessionEvent(Session session, Event event) {
        if (event != Event.Authenticated || !(session instanceof ServerSession server)) {
            return;
        }
        ShellUser user = server.getAttribute(USER);
        if (user == null || !user.name().equals(server.getUsername())) {
            // cannot happen with MINA's publickey method; never let a session in without its user
            LOG.error("SSH session {} authenticated as {} but resolved to {}: closing it", session, server.getUsername(), user);
            server.close(true);
            return;
        }
        Attempts attempts = attempts(server);
        String fingerprint;
        synchronized (attempts) {
            fingerprint = attempts.matchedFingerprint;
        }
        LOG.info("SSH login: {} ({}) from {} with key {}", user.name(), roleName(user), user.from(), fingerprint);
        record(user.name(), user.from(), "login", "ssh");
    }

    @Override
    public void sessionNegotiationEnd(Session session, Map<KexProposalOption, String> clientProposal,
            Map<KexProposalOption, String> serverProposal, Map<KexProposalOption, String> negotiatedOptions,
            Throwable reason) {
        if (reason != null) {
            LOG.debug("SSH key exchange with {} failed: {}", from(session), reason.getMessage()); // MINA warns too
        }
    }

    @Override
    public void sessionClosed(Session session) {
        if (!(session instanceof ServerSession server)) {
            return;
        }
        if (server.isAuthenticated()) {
            ShellUser user = server.getAttribute(USER);
            if (user != null) {
                LOG.info("SSH session of {} from {} closed", user.name(), user.from());
            }
            return;
        }
        Attempts attempts = server.getAttribute(ATTEMPTS);
        if (attempts == null) {
            return;
        }
        String user;
        String reason;
        String fingerprints;
        boolean duringBackoff;
        synchronized (attempts) {
            user = attempts.user;
            reason = attempts.reason;
            fingerprints = String.join(", ", attempts.fingerprints);
            duringBackoff = attempts.duringBackoff;
            if (user == null && attempts.candidate != null) {
                // an authorized public key (public keys are no secret) without a valid signature
                user = attempts.candidate;
                reason = "authorized key offered, but no valid signature";
                fingerprints = attempts.matchedFingerprint;
            }
        }
        if (user == null) {
            if (duringBackoff) {
                LOG.debug("SSH connection from {} closed: refused during back-off", from(server));
            }
            return;
        }
        // one failure per connection that never got in, however many keys its agent offered
        if (!duringBackoff) {
            String address = address(server);
            Duration backoff = throttle.failure(address);
            if (!backoff.isZero()) {
                LOG.warn("{} failed SSH logins from {} within {} s: refusing logins from it for {} s",
                        LoginThrottle.MAX_FAILURES, address, LoginThrottle.WINDOW.toSeconds(), backoff.toSeconds());
            }
        }
        LOG.warn("SSH login refused: user {} from {}, key {}: {}", user, from(server), fingerprints, reason);
        record(user, from(server), "login.refused", reason + " (key " + fingerprints + ")");
    }

    private void record(String who, String from, String action, String detail) {
        Runnable write = () -> {
            try {
                audit.record(who, from, action, detail);
            } catch (RuntimeException e) {
                LOG.error("cannot audit {} of {} from {}", action, who, from, e);
            }
        };
        try {
            auditor.execute(write);
        } catch (RejectedExecutionException stopping) {
            write.run();
        }
    }

    private static Attempts attempts(ServerSession session) {
        return session.computeAttributeIfAbsent(ATTEMPTS, k -> new Attempts());
    }

    private static String roleName(ShellUser user) {
        return user.role().name().toLowerCase();
    }

    /** The remote IP address of a session, the key of the back-off. */
    static String address(Session session) {
        SocketAddress a = session.getRemoteAddress();
        if (a instanceof InetSocketAddress inet && inet.getAddress() != null) {
            return inet.getAddress().getHostAddress();
        }
        return String.valueOf(a);
    }

    /** "ip:port" ("[v6]:port") of the client, as shown in logs, the audit trail and {@link ShellUser#from()}. */
    static String from(Session session) {
        SocketAddress a = session.getRemoteAddress();
        if (a instanceof InetSocketAddress inet && inet.getAddress() != null) {
            String ip = inet.getAddress().getHostAddress();
            return (ip.indexOf(':') >= 0 ? "[" + ip + "]" : ip) + ":" + inet.getPort();
        }
        return String.valueOf(a);
    }

    private static String abbreviate(String line) {
        String s = line.strip();
        return s.length() <= 60 ? s : s.substring(0, 40) + "..." + s.substring(s.length() - 16);
    }
}
