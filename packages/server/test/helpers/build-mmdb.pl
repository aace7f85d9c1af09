#!/usr/bin/perl
# Writes two tiny MaxMind-format databases for the enrichment tests: a
# GeoIP2-City-shaped one and a GeoLite2-ASN-shaped one. No npm package can
# write .mmdb files, so the tests build them with MaxMind's own Perl writer
# (Debian: libmaxmind-db-writer-perl) instead of shipping binary fixtures.
#
# Usage: build-mmdb.pl GEO_OUT ASN_OUT
#
# The networks below are the test's expectations: enrich.test.ts asserts
# exactly these values, so change both together.
use strict;
use warnings;
use utf8;

use MaxMind::DB::Writer::Tree;

die "usage: $0 GEO_OUT ASN_OUT\n" unless @ARGV == 2;
my ($geo_out, $asn_out) = @ARGV;

my %geo = (
    '81.2.69.0/24' => {
        country     => { iso_code => 'GB', geoname_id => 2635167, names => { en => 'United Kingdom' } },
        subdivisions => [ { iso_code => 'ENG', geoname_id => 6269131, names => { en => 'England' } } ],
        city        => { geoname_id => 2643743, names => { en => 'London' } },
    },
    '89.160.20.0/24' => {
        country     => { iso_code => 'SE', geoname_id => 2661886, names => { en => 'Sweden' } },
        subdivisions => [ { iso_code => 'E', geoname_id => 2685867, names => { en => 'Östergötland County' } } ],
        # Non-ASCII on purpose: proves UTF-8 survives writer → reader.
        city        => { geoname_id => 2694762, names => { en => 'Linköping' } },
    },
    '2001:db8::/32' => {
        country     => { iso_code => 'DE', geoname_id => 2921044, names => { en => 'Germany' } },
        subdivisions => [ { iso_code => 'BE', geoname_id => 2950157, names => { en => 'Land Berlin' } } ],
        city        => { geoname_id => 2950159, names => { en => 'Berlin' } },
    },
    '203.0.113.0/24' => {
        country     => { iso_code => 'JP', geoname_id => 1861060, names => { en => 'Japan' } },
        subdivisions => [ { iso_code => '13', geoname_id => 1850144, names => { en => 'Tokyo' } } ],
        city        => { geoname_id => 1850147, names => { en => 'Tokyo' } },
    },
);

my %asn = (
    '81.2.69.0/24'   => { autonomous_system_number => 20712, autonomous_system_organization => 'Andrews & Arnold Ltd' },
    '89.160.20.0/24' => { autonomous_system_number => 29518, autonomous_system_organization => 'Bredband2 AB' },
    '2001:db8::/32'  => { autonomous_system_number => 64496, autonomous_system_organization => 'Example IPv6 AS' },
);

# The writer needs every map key's on-disk type up front.
my %types = (
    country                        => 'map',
    subdivisions                   => [ 'array', 'map' ],
    city                           => 'map',
    names                          => 'map',
    en                             => 'utf8_string',
    iso_code                       => 'utf8_string',
    geoname_id                     => 'uint32',
    autonomous_system_number       => 'uint32',
    autonomous_system_organization => 'utf8_string',
);

sub write_db {
    my ($path, $type, $networks) = @_;
    my $tree = MaxMind::DB::Writer::Tree->new(
        ip_version            => 6,
        record_size           => 24,
        database_type         => $type,
        languages             => ['en'],
        description           => { en => "openqoe test $type database" },
        # IPv4 networks live under ::/96; the aliases make ::ffff:a.b.c.d
        # (how Node reports IPv4 on a dual-stack socket) find them too.
        alias_ipv6_to_ipv4    => 1,
        # 2001:db8::/32 and 203.0.113.0/24 are documentation ranges, which the
        # writer drops by default.
        remove_reserved_networks => 0,
        map_key_type_callback => sub { $types{ $_[0] } // die "no type for key $_[0]\n" },
    );
    for my $network (sort keys %$networks) {
        $tree->insert_network($network, $networks->{$network});
    }
    open my $fh, '>:raw', $path or die "cannot write $path: $!\n";
    $tree->write_tree($fh);
    close $fh or die "cannot write $path: $!\n";
}

write_db($geo_out, 'GeoIP2-City',  \%geo);
write_db($asn_out, 'GeoLite2-ASN', \%asn);
