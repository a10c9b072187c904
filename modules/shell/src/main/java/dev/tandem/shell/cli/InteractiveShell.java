package dev.tandem.shell.cli;

import java.io.IOError;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.jline.keymap.KeyMap;
import org.jline.reader.EndOfFileException;
import org.jline.reader.LineReader;
import org.jline.reader.LineReaderBuilder;
import org.jline.reader.Reference;
import org.jline.reader.UserInterruptException;
import org.jline.reader.Widget;
import org.jline.reader.impl.DefaultParser;
import org.jline.terminal.Terminal;
import org.jline.utils.NonBlockingReader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The interactive loop: JLine line editing, per-user history, Tab completion, {@code ?} for help. */
final class InteractiveShell {
    private static final Logger LOG = LoggerFactory.getLogger(InteractiveShell.class);
    private static final String CONTEXT_HELP = "tandem-context-help";
    /** Typed lines are short; JLine redraws the whole line at every key, so a pasted megabyte must not reach it. */
    static final int MAX_TYPED_LINE = 4096;

    private final CliSession session;
    private final Terminal terminal;
    private final CliCompleter completer;
    private boolean lineTooLong;

    InteractiveShell(CliSession session, Terminal terminal) {
        this.session = session;
        this.terminal = terminal;
        this.completer = new CliCompleter(session);
    }

    int run() {
        LineReader reader = newReader();
        PrintWriter out = terminal.writer();
        out.println("Tandem admin shell on " + session.prompt().replaceAll("[>#] $", "") + ". Tab completes, ? helps, exit leaves.");
        out.flush();
        while (true) {
            String line;
            try {
                line = reader.readLine(session.prompt());
            } catch (UserInterruptException e) {
                continue; // Ctrl-C abandons the line
            } catch (EndOfFileException | IOError e) {
                return 0; // Ctrl-D, or the connection went away
            }
            if (lineTooLong) {
                lineTooLong = false;
                out.println("error: line too long (more than " + MAX_TYPED_LINE + " characters); ignored");
                out.flush();
                continue;
            }
            try {
                for (List<String> command : Tokenizer.commands(line)) {
                    if (session.execute(command, null, out) == CliSession.Next.LEAVE) return 0;
                }
            } catch (CliException e) {
                out.println("error: " + e.getMessage());
            } catch (RuntimeException e) {
                LOG.error("shell command failed: {}", line, e);
                out.println("error: internal error: " + e);
            }
            out.flush();
        }
    }

    private LineReader newReader() {
        DefaultParser parser = new DefaultParser();
        parser.setEofOnUnclosedQuote(false);
        LineReaderBuilder builder = LineReaderBuilder.builder()
                .terminal(terminal)
                .appName("tandem")
                .parser(parser)
                .completer(completer)
                .option(LineReader.Option.DISABLE_EVENT_EXPANSION, true)
                .option(LineReader.Option.AUTO_FRESH_LINE, true)
                .variable(LineReader.HISTORY_SIZE, 1000);
        Path history = historyFile();
        if (history != null) builder.variable(LineReader.HISTORY_FILE, history);
        LineReader reader = builder.build();

        Widget selfInsert = reader.getWidgets().get(LineReader.SELF_INSERT);
        reader.getWidgets().put(LineReader.SELF_INSERT, () -> {
            if (reader.getBuffer().length() < MAX_TYPED_LINE) return selfInsert.apply();
            lineTooLong = true;
            return swallowRestOfLine(reader);
        });
        reader.getWidgets().put(CONTEXT_HELP, () -> contextHelp(reader, selfInsert));
        reader.getKeyMaps().get(LineReader.MAIN).bind(new Reference(CONTEXT_HELP), "?");
        reader.getKeyMaps().get(LineReader.MAIN).bind(new Reference(LineReader.SELF_INSERT), KeyMap.ctrl('V') + "?");
        return reader;
    }

    /**
     * Reads and drops the rest of an over-long line straight from the terminal (no redraw per character),
     * then accepts the line so the loop can report it; a pause in typing hands back to normal reading.
     */
    private boolean swallowRestOfLine(LineReader reader) {
        try {
            for (int c; (c = terminal.reader().read(100)) != NonBlockingReader.READ_EXPIRED; ) {
                if (c == NonBlockingReader.EOF) return true;
                if (c == '\r' || c == '\n') return reader.getWidgets().get(LineReader.ACCEPT_LINE).apply();
            }
        } catch (java.io.IOException e) {
            LOG.debug("reading an over-long line: {}", e.toString());
        }
        return true;
    }

    /** {@code ?}: what may come next here, with one line each; inside quotes it is just a character. */
    private boolean contextHelp(LineReader reader, Widget selfInsert) {
        String before = reader.getBuffer().substring(0, reader.getBuffer().cursor());
        if (insideQuotes(before)) return selfInsert.apply();
        List<String> words;
        try {
            List<List<String>> commands = Tokenizer.commands(before);
            words = commands.isEmpty() || before.endsWith(";") ? List.of() : commands.get(commands.size() - 1);
        } catch (CliException e) {
            return selfInsert.apply();
        }
        boolean midWord = !before.isEmpty() && !Character.isWhitespace(before.charAt(before.length() - 1)) && !words.isEmpty();
        String current = midWord ? words.get(words.size() - 1) : "";
        List<String> previous = midWord ? words.subList(0, words.size() - 1) : words;
        StringBuilder help = new StringBuilder();
        List<CliCompleter.Option> options = completer.options(previous, current);
        if (options.isEmpty()) help.append("  (no completions here; <Enter> runs the line)");
        int width = options.stream().mapToInt(o -> o.word().length()).max().orElse(0);
        for (CliCompleter.Option o : options) {
            if (help.length() > 0) help.append('\n');
            help.append(String.format("  %-" + (width + 2) + "s%s", o.word(), o.help()));
        }
        reader.printAbove(help.toString());
        return true;
    }

    private static boolean insideQuotes(String text) {
        char quote = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '\\') i++;
            else if (quote == 0 && (c == '"' || c == '\'')) quote = c;
            else if (c == quote) quote = 0;
        }
        return quote != 0;
    }

    private Path historyFile() {
        try {
            Path dir = Files.createDirectories(session.historyDir());
            return dir.resolve(session.user().name());
        } catch (Exception e) {
            LOG.warn("no shell history: {}", e.toString());
            return null;
        }
    }
}
