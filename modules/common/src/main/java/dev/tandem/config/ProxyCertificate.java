package dev.tandem.config;

/**
 * A TLS certificate the HTTPS listener offers; the client's SNI name picks the one whose names match.
 *
 * @param cert PEM: the certificate, then any intermediates
 * @param key PEM: its private key (PKCS#8 or the traditional RSA/EC form), unencrypted
 */
public record ProxyCertificate(String name, String cert, String key) {}
