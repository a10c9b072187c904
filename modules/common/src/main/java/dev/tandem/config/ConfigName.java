package dev.tandem.config;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks the {@code name} of a list entry whose names may contain dots (a DNS zone {@code demo.test},
 * an owner name {@code _sip._tcp}). In a dotted path such a name spans several steps; the path reader
 * tells where it ends by what follows ({@code dns.zones.demo.test.records.www.a}).
 */
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.RECORD_COMPONENT, ElementType.PARAMETER, ElementType.FIELD, ElementType.METHOD})
public @interface ConfigName {
    boolean dotted();
}
