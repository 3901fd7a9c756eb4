# brew-stub.rb: run a Homebrew formula's install and test blocks without Homebrew (for
# tests/t-install.sh, on Linux): just the part of the Formula DSL that release/connect.rb uses.
#   ruby tests/brew-stub.rb FORMULA BUILDPATH PREFIX RESOURCE_DIR
# BUILDPATH: the unpacked source tarball; PREFIX: the keg it installs into (bin, share, ...);
# RESOURCE_DIR: holds each resource's file by the name its URL ends with (its sha256 is checked, as
# brew would). Formula["x"].opt_prefix is STUB_OPT_PREFIX (default /usr). Exit 0 when install
# and test both ran through; this proves the formula's own steps and paths, not Homebrew's API.
require "digest"
require "fileutils"
require "pathname"

formula_file, BUILDPATH, PREFIX, RESOURCE_DIR = ARGV
abort "usage: ruby brew-stub.rb FORMULA BUILDPATH PREFIX RESOURCE_DIR" unless RESOURCE_DIR

# Homebrew's Pathname#install: move each file (or "src" => "new name") into this directory.
class Pathname
  def install(*sources)
    mkpath
    sources.each do |s|
      pairs = s.is_a?(Hash) ? s : { s => File.basename(s.to_s) }
      pairs.each do |src, dst|
        raise "install: no #{src} in #{Dir.pwd}" unless File.exist?(src.to_s)

        FileUtils.mv(src.to_s, (self / dst.to_s).to_s)
      end
    end
  end
end

class Resource
  attr_reader :name

  def initialize(name)
    @name = name
  end

  def url(u = nil)
    @url = u if u
    @url
  end

  def sha256(s = nil)
    @sha256 = s if s
    @sha256
  end

  def version
    @url[/-(\d+(?:\.\d+)+)[^\/]*\z/, 1] || @url[/_(\d+(?:\.\d+)+)[^\/]*\z/, 1]
  end

  def cached_download
    f = Pathname(RESOURCE_DIR) / File.basename(@url)
    raise "resource #{@name}: no #{f}" unless f.file?

    got = Digest::SHA256.file(f).hexdigest
    raise "resource #{@name}: #{f} has sha256 #{got}, the formula says #{@sha256}" unless got == @sha256

    f
  end
end

class Formula
  include FileUtils

  Dep = Struct.new(:opt_prefix)

  class << self
    attr_reader :stable_url, :stable_sha256, :resources, :test_block

    def desc(_) = nil
    def homepage(_) = nil
    def license(_) = nil
    def depends_on(_) = nil
    def uses_from_macos(_) = nil

    def url(u)
      @stable_url = u
    end

    def sha256(s)
      @stable_sha256 = s
    end

    def resource(name, &blk)
      (@resources ||= {})[name] = Resource.new(name).tap { |r| r.instance_eval(&blk) }
    end

    def test(&blk)
      @test_block = blk
    end

    def [](_name)
      Dep.new(Pathname(ENV.fetch("STUB_OPT_PREFIX", "/usr")))
    end

    def inherited(sub)
      super
      (@subclasses ||= []) << sub
    end

    attr_reader :subclasses
  end

  def resource(name) = self.class.resources.fetch(name)
  def buildpath = Pathname(BUILDPATH)
  def prefix = Pathname(PREFIX)
  def bin = prefix / "bin"
  def man1 = prefix / "share/man/man1"
  def pkgshare = prefix / "share/connect"
  def bash_completion = prefix / "etc/bash_completion.d"
  def zsh_completion = prefix / "share/zsh/site-functions"
  def fish_completion = prefix / "share/fish/vendor_completions.d"
  def version = self.class.stable_url[/-(\d+(?:\.\d+)+)\.tar\.gz\z/, 1]

  def system(*args)
    puts "==> #{args.join(" ")}"
    Kernel.system(*args) || raise("failed: #{args.join(" ")}")
  end

  def shell_output(cmd)
    out = `#{cmd}`
    raise "failed: #{cmd}" unless $?.success?

    out
  end

  def assert_match(want, got)
    raise "assert_match: #{want.inspect} not in #{got.inspect}" unless got.include?(want)
  end
end

load formula_file
klass = Formula.subclasses.last or abort "#{formula_file}: no Formula subclass"
f = klass.new
Dir.chdir(BUILDPATH) { f.install }
f.instance_eval(&klass.test_block)
puts "brew-stub: #{klass.name} #{f.version}: install and test ran"
