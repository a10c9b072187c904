package dev.tandem.dns.zone;

import java.io.IOException;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Name;
import org.xbill.DNS.Record;
import org.xbill.DNS.TextParseException;
import org.xbill.DNS.Type;

/** Record data as written in the config: zone-file presentation form, names relative to the zone. */
public final class RecordText {
    private RecordText() {}

    /** {@code @} is the apex; other names are relative to it unless they end in a dot. */
    public static Name owner(String name, Name origin) throws TextParseException {
        return name.equals("@") ? origin : Name.fromString(name, origin);
    }

    /**
     * Parses one value of one type. A TXT value that does not start with a quote is one string, taken
     * as written (spaces and all), so {@code set ... txt v=spf1 -all} does what it says.
     */
    public static Record parse(Name owner, String type, long ttl, String text, Name origin) throws IOException {
        int code = Type.value(type);
        if (code < 0) throw new TextParseException("unknown record type " + type);
        String data = code == Type.TXT && !text.startsWith("\"") ? quote(text) : text;
        return Record.fromString(owner, code, DClass.IN, ttl, data, origin);
    }

    /** The form the config stores a record's data in (names absolute): the inverse of {@link #parse}. */
    public static String format(Record record) {
        if (record.getType() == Type.TXT) {
            // getStrings() escapes quotes, backslashes and bytes outside printable ASCII: only a string
            // with no escape in it reads back as written; any other goes quoted, in zone-file form
            var strings = ((org.xbill.DNS.TXTRecord) record).getStrings();
            String only = strings.size() == 1 ? strings.get(0) : null;
            if (only != null && !only.startsWith("\"") && only.indexOf('\\') < 0) return only;
        }
        return record.rdataToString();
    }

    private static String quote(String text) {
        StringBuilder out = new StringBuilder("\"");
        for (char c : text.toCharArray()) {
            if (c == '"' || c == '\\') out.append('\\');
            out.append(c);
        }
        return out.append('"').toString();
    }
}
