package dev.tandem.shell.ssh;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Set;
import org.apache.sshd.common.channel.PtyMode;
import org.apache.sshd.server.Environment;
import org.jline.terminal.Attributes;
import org.jline.terminal.Size;
import org.jline.terminal.Terminal;
import org.jline.terminal.impl.ExternalTerminal;
import org.jline.terminal.spi.TerminalProvider;

/**
 * A JLine terminal over an SSH session channel: JLine's {@link ExternalTerminal} does the line discipline (echo,
 * CR/NL mapping, Ctrl-C raising INT ...) that a kernel pty would, configured from the client's pty request.
 */
final class SshTerminal {
    /** Terminal types whose capabilities JLine bundles; any other makes JLine run {@code infocmp}. */
    private static final Set<String> BUNDLED_TYPES = Set.of(
            "ansi", "dumb", "dumb-color", "xterm", "xterm-256color", "screen", "screen-256color",
            "rxvt", "rxvt-basic", "rxvt-unicode", "rxvt-unicode-256color",
            "windows", "windows-256color", "windows-conemu", "windows-vtp");

    private SshTerminal() {}

    static ExternalTerminal open(String name, Environment env, InputStream in, OutputStream out) throws IOException {
        Map<String, String> vars = env.getEnv();
        boolean pty = vars.containsKey(Environment.ENV_COLUMNS) || !env.getPtyModes().isEmpty();
        String type = pty ? terminalType(vars.get(Environment.ENV_TERM)) : "dumb";
        ExternalTerminal terminal = new ExternalTerminal((TerminalProvider) null, name, type, new EndOnError(in), out,
                StandardCharsets.UTF_8,
                Terminal.SignalHandler.SIG_DFL, true, null, size(env));
        Attributes attributes = terminal.getAttributes();
        applyPtyModes(attributes, env.getPtyModes());
        if (!pty) {
            // no remote pty: the client's own tty (if any) echoes and edits lines
            attributes.setLocalFlag(Attributes.LocalFlag.ECHO, false);
        }
        terminal.setAttributes(attributes);
        terminal.resume(); // starts the thread pumping the channel's input through the line discipline
        return terminal;
    }

    /** The window size in the session's environment (set by the pty request, updated by window changes). */
    static Size size(Environment env) {
        Map<String, String> vars = env.getEnv();
        return new Size(positive(vars.get(Environment.ENV_COLUMNS), 80), positive(vars.get(Environment.ENV_LINES), 24));
    }

    /**
     * The client's TERM if JLine knows it without running {@code infocmp}, else the closest bundled one: the
     * client chooses this string, it should not make the appliance start processes.
     */
    static String terminalType(String term) {
        if (term == null || term.isBlank()) {
            return "xterm";
        }
        String t = term.strip();
        if (BUNDLED_TYPES.contains(t)) {
            return t;
        }
        return t.contains("256color") || t.contains("truecolor") || t.contains("direct") ? "xterm-256color" : "xterm";
    }

    /**
     * Applies the pty modes the client sent (RFC 4254 8) over JLine's defaults: control characters (ERASE, KILL,
     * WERASE, INTR, EOF ...) and the input, local and output flags share their names with JLine's enums.
     * Characters 0 and 255 mean "disabled" and leave the default.
     */
    static void applyPtyModes(Attributes attributes, Map<PtyMode, Integer> modes) {
        for (Map.Entry<PtyMode, Integer> e : modes.entrySet()) {
            String mode = e.getKey().name();
            int value = e.getValue() == null ? 0 : e.getValue();
            Attributes.ControlChar cc = constant(Attributes.ControlChar.class, mode);
            if (cc != null) {
                if (value > 0 && value < 255) {
                    attributes.setControlChar(cc, value);
                }
                continue;
            }
            Attributes.InputFlag input = constant(Attributes.InputFlag.class, mode);
            if (input != null) {
                attributes.setInputFlag(input, value != 0);
                continue;
            }
            Attributes.LocalFlag local = constant(Attributes.LocalFlag.class, mode);
            if (local != null) {
                attributes.setLocalFlag(local, value != 0);
                continue;
            }
            Attributes.OutputFlag output = constant(Attributes.OutputFlag.class, mode);
            if (output != null) {
                attributes.setOutputFlag(output, value != 0);
            }
            // the rest (speeds, CS7/CS8, parity, IUCLC ...) means nothing for a terminal that is a byte stream
        }
    }

    /**
     * The channel's input as the terminal's pump reads it: a failed read (channel closed, pump thread interrupted)
     * is the end of the input. Without this JLine hands the CLI's reader the exception, and an
     * {@link java.io.InterruptedIOException} reaches the CLI as a Ctrl-C instead of as the end of the session.
     */
    private static final class EndOnError extends FilterInputStream {
        EndOnError(InputStream in) {
            super(in);
        }

        @Override
        public int read() throws IOException {
            try {
                return super.read();
            } catch (IOException e) {
                return -1;
            }
        }

        @Override
        public int read(byte[] b, int off, int len) {
            try {
                return in.read(b, off, len);
            } catch (IOException e) {
                return -1;
            }
        }
    }

    private static <E extends Enum<E>> E constant(Class<E> type, String name) {
        try {
            return Enum.valueOf(type, name);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private static int positive(String value, int fallback) {
        if (value == null) {
            return fallback;
        }
        try {
            int n = Integer.parseInt(value.strip());
            return n > 0 && n < 10_000 ? n : fallback;
        } catch (NumberFormatException e) {
            return fallback;
        }
    }
}
