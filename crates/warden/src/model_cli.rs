//! `warden model …`: a directory through intake into the registry, and back out.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context};
use clap::Subcommand;
use warden_api as api;

use crate::cli::common::{client, short, Global};
use crate::output::{fields, json, opt, table, Format};

#[derive(Debug, Subcommand)]
pub enum ModelCommand {
    /// Upload a model file or directory, run intake, and register it as the next version.
    Push {
        path: PathBuf,
        #[arg(long)]
        name: String,
        #[arg(long)]
        project: String,
        #[arg(long)]
        licence: Option<String>,
        #[arg(long)]
        source_uri: Option<String>,
        /// A Markdown model card (default: README.md or MODEL_CARD.md at the top of the
        /// pushed directory, when there is one).
        #[arg(long)]
        model_card: Option<PathBuf>,
        /// RFC 3339 expiry date.
        #[arg(long)]
        expires: Option<String>,
        /// Sign the manifest with this PKCS#8 PEM private key (Ed25519, P-256, P-384),
        /// whose public key an administrator registered with `warden signer add`.
        #[arg(long, value_name = "KEY")]
        sign: Option<PathBuf>,
        /// An OpenSSF model-signing bundle for these files (made by the `model-signing`
        /// package); if it lies inside the pushed directory it is not uploaded as a file.
        #[arg(long, value_name = "FILE")]
        model_signing_bundle: Option<PathBuf>,
        /// A training run that produced the model (repeatable).
        #[arg(long = "run", value_name = "RUN_ID")]
        runs: Vec<String>,
        /// A dataset it was trained or evaluated on (repeatable).
        #[arg(long = "dataset", value_name = "DATASET")]
        datasets: Vec<String>,
        /// A zone the artifact may be placed in (repeatable).
        #[arg(long = "zone", value_name = "ZONE")]
        zones: Vec<String>,
        /// A data class the model carries (repeatable; classes of the policy document).
        #[arg(long = "data-class", value_name = "CLASS")]
        data_classes: Vec<String>,
    },
    /// NAME@VERSION's effective classes: declared, and every upstream dataset's, each
    /// with the lineage path that brought it in.
    Classes {
        reference: String,
        #[arg(long)]
        project: String,
    },
    /// Attach evaluation evidence to NAME@VERSION: metrics, optionally a report file.
    Evaluate {
        reference: String,
        /// METRIC=VALUE (repeatable), e.g. auc=0.91.
        #[arg(long = "metric", value_name = "METRIC=VALUE", required = true)]
        metrics: Vec<String>,
        /// A report file, uploaded as a blob of the project and referenced by digest.
        #[arg(long)]
        report: Option<PathBuf>,
        /// The catalogued dataset it was evaluated on (id or NAMESPACE/NAME).
        #[arg(long)]
        dataset: Option<String>,
        #[arg(long)]
        project: String,
    },
    /// NAME@VERSION's evaluations, oldest first: metrics, dataset, report.
    Evaluations {
        reference: String,
        #[arg(long)]
        project: String,
    },
    List {
        #[arg(long)]
        project: String,
    },
    Show {
        name: String,
        #[arg(long)]
        project: String,
    },
    /// Download NAME@VERSION (a number, an alias or `latest`) into a directory,
    /// verifying every file's digest.
    Pull {
        reference: String,
        #[arg(long)]
        project: String,
        #[arg(long)]
        out: PathBuf,
    },
    /// Point ALIAS (e.g. champion) at a version of model NAME.
    Alias {
        name: String,
        alias: String,
        version: u64,
        #[arg(long)]
        project: String,
    },
    /// Remove an alias.
    Unalias {
        name: String,
        alias: String,
        #[arg(long)]
        project: String,
    },
    /// Set KEY=VALUE on NAME@VERSION.
    Tag {
        reference: String,
        tag: String,
        #[arg(long)]
        project: String,
    },
    /// Remove tag KEY from NAME@VERSION.
    Untag {
        reference: String,
        key: String,
        #[arg(long)]
        project: String,
    },
}

/// A metadata field intake recorded with an artifact.
fn meta(evidence: &serde_json::Value, key: &str) -> Option<String> {
    evidence.pointer(&format!("/metadata/{key}")).and_then(serde_json::Value::as_str).map(str::to_string)
}

/// A model card's title: its first non-empty line without Markdown heading marks,
/// shortened for a table cell.
fn card_title(card: &str) -> String {
    let line = card.lines().map(|l| l.trim_start_matches('#').trim()).find(|l| !l.is_empty()).unwrap_or("(empty)");
    let short: String = line.chars().take(40).collect();
    if short.len() < line.len() {
        format!("{short}…")
    } else {
        short
    }
}

/// `NAME@REF` → (NAME, REF).
fn split_reference(reference: &str) -> anyhow::Result<(&str, &str)> {
    reference
        .rsplit_once('@')
        .filter(|(n, r)| !n.is_empty() && !r.is_empty())
        .ok_or_else(|| anyhow!("give the model as NAME@VERSION (a number, an alias or latest), e.g. fraud@3"))
}

/// `NAME@NUMBER` → (NAME, NUMBER).
fn numbered(reference: &str) -> anyhow::Result<(&str, u64)> {
    let (name, v) = split_reference(reference)?;
    let v = v.parse::<u64>().map_err(|_| anyhow!("give the version as a number, e.g. {name}@3"))?;
    Ok((name, v))
}

/// Files under `root` as (relative `/` path, absolute path). Symlinks are refused.
fn files(root: &Path) -> anyhow::Result<Vec<(String, PathBuf)>> {
    let meta = std::fs::symlink_metadata(root).with_context(|| format!("cannot read {}", root.display()))?;
    if meta.file_type().is_symlink() {
        bail!("{} is a symbolic link; push the real file or directory", root.display());
    }
    if meta.is_file() {
        let name = root.file_name().ok_or_else(|| anyhow!("{} has no file name", root.display()))?;
        return Ok(vec![(name.to_string_lossy().into_owned(), root.to_path_buf())]);
    }
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).with_context(|| format!("cannot read {}", dir.display()))? {
            let entry = entry?;
            let path = entry.path();
            let kind = entry.file_type()?;
            if kind.is_symlink() {
                bail!("{} is a symbolic link; artifacts hold only regular files", path.display());
            } else if kind.is_dir() {
                stack.push(path);
            } else if kind.is_file() {
                let rel = path
                    .strip_prefix(root)?
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy())
                    .collect::<Vec<_>>()
                    .join("/");
                out.push((rel, path));
            }
        }
    }
    out.sort();
    if out.is_empty() {
        bail!("{} holds no files", root.display());
    }
    Ok(out)
}

pub async fn run(command: ModelCommand, g: &Global) -> anyhow::Result<()> {
    let f = g.output;
    let c = client(g)?;
    match command {
        ModelCommand::Push {
            path,
            name,
            project,
            licence,
            source_uri,
            model_card,
            expires,
            sign,
            model_signing_bundle,
            runs,
            datasets,
            zones,
            data_classes,
        } => {
            let bundle = match &model_signing_bundle {
                Some(p) => {
                    let text = std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))?;
                    Some(
                        serde_json::from_str::<serde_json::Value>(&text)
                            .map_err(|e| anyhow!("{} is not JSON: {e}", p.display()))?,
                    )
                }
                None => None,
            };
            let skip = model_signing_bundle.as_ref().and_then(|p| p.canonicalize().ok());
            let mut manifest = Vec::new();
            for (rel, abs) in files(&path)? {
                if skip.is_some() && abs.canonicalize().ok() == skip {
                    continue;
                }
                let (digest, size) =
                    c.digest_file(&abs).await.with_context(|| format!("cannot read {}", abs.display()))?;
                c.upload_blob(&project, &digest, &abs).await?;
                eprintln!("uploaded {rel} ({size} bytes, {digest})");
                manifest.push(api::ArtifactFile { path: rel, digest, size });
            }
            // Without --model-card, the directory's own card (as Hugging Face keeps it).
            let model_card = model_card.or_else(|| {
                ["MODEL_CARD.md", "README.md"].iter().map(|n| path.join(n)).find(|p| path.is_dir() && p.is_file())
            });
            let model_card = match model_card {
                Some(p) => {
                    let text = std::fs::read_to_string(&p).with_context(|| format!("cannot read {}", p.display()))?;
                    eprintln!("model card: {}", p.display());
                    Some(text)
                }
                None => None,
            };
            let mut signatures = Vec::new();
            if let Some(key) = sign {
                let pem = std::fs::read_to_string(&key).with_context(|| format!("cannot read {}", key.display()))?;
                let entries = manifest
                    .iter()
                    .map(|f| warden_intake::manifest::FileEntry {
                        path: f.path.clone(),
                        digest: f.digest.clone(),
                        size: f.size,
                    })
                    .collect();
                let m = warden_intake::manifest::Manifest::new(entries).map_err(|e| anyhow!("{e}"))?;
                let (_, signature) = warden_intake::signature::sign_pem(&pem, m.canonical().as_bytes())
                    .map_err(|e| anyhow!("{}: {e}", key.display()))?;
                eprintln!("signed manifest {}", m.digest());
                signatures.push(api::ArtifactSignature { signer: None, signature });
            }
            let req = api::CreateArtifactRequest {
                signatures,
                model_signing_bundle: bundle,
                kind: "model".into(),
                name: name.clone(),
                files: manifest,
                image: None,
                source_uri,
                licence,
                model_card,
                permitted_zones: zones,
                review_date: None,
                expiry_date: expires,
                dataset: None,
            };
            let artifact = c.create_artifact(&project, &req).await?;
            let req = api::CreateModelVersionRequest { artifact: artifact.id.clone(), runs, datasets, data_classes };
            let v = c.create_model_version(&project, &name, &req).await?;
            if f == Format::Json {
                return json(&v);
            }
            println!(
                "{name} version {} (artifact {}, {}, manifest {})",
                v.version, artifact.id, artifact.verdict, artifact.manifest_digest
            );
            Ok(())
        }
        ModelCommand::Classes { reference, project } => {
            let (name, version) = crate::release_cli::model_version(&reference)?;
            let classes = c.version_classes(&project, &name, version).await?;
            if f == Format::Json {
                return json(&classes);
            }
            table(&["CLASS", "PATH"], classes.iter().map(|c| vec![c.class.clone(), c.path.join(" <- ")]).collect());
            Ok(())
        }
        ModelCommand::Evaluate { reference, metrics, report, dataset, project } => {
            let (name, version) = crate::release_cli::model_version(&reference)?;
            let mut parsed = std::collections::BTreeMap::new();
            for m in &metrics {
                let (k, v) = m.split_once('=').ok_or_else(|| anyhow!("`{m}`: write METRIC=VALUE"))?;
                let v: f64 = v.trim().parse().map_err(|_| anyhow!("`{m}`: the value must be a number"))?;
                parsed.insert(k.trim().to_string(), v);
            }
            let report = match report {
                Some(path) => {
                    let (digest, _) =
                        c.digest_file(&path).await.with_context(|| format!("cannot read {}", path.display()))?;
                    c.upload_blob(&project, &digest, &path).await?;
                    Some(digest)
                }
                None => None,
            };
            let e = c
                .add_evaluation(
                    &project,
                    &name,
                    version,
                    &api::AddEvaluationRequest { metrics: parsed, report, dataset },
                )
                .await?;
            if f == Format::Json {
                return json(&e);
            }
            println!("evaluation {} attached to {name}@{version}", e.seq);
            Ok(())
        }
        ModelCommand::Evaluations { reference, project } => {
            let (name, version) = crate::release_cli::model_version(&reference)?;
            let rows = c.list_evaluations(&project, &name, version).await?;
            if f == Format::Json {
                return json(&rows);
            }
            table(
                &["SEQ", "METRICS", "DATASET", "REPORT", "ADDED"],
                rows.iter()
                    .map(|e| {
                        let metrics: Vec<String> = e.metrics.iter().map(|(k, v)| format!("{k}={v}")).collect();
                        vec![
                            e.seq.to_string(),
                            metrics.join(" "),
                            opt(&e.dataset),
                            opt(&e.report),
                            format!("{} by {}", short(&e.added_at), e.added_by),
                        ]
                    })
                    .collect(),
            );
            Ok(())
        }
        ModelCommand::List { project } => {
            let page = c.list_models(&project).await?;
            if f == Format::Json {
                return json(&page);
            }
            table(
                &["id", "name", "created"],
                page.items.iter().map(|m| vec![m.id.clone(), m.name.clone(), short(&m.created_at)]).collect(),
            );
            Ok(())
        }
        ModelCommand::Show { name, project } => {
            let m = c.get_model(&project, &name).await?;
            if f == Format::Json {
                return json(&m);
            }
            fields(vec![("id", m.id.clone()), ("name", m.name.clone()), ("project", m.project.clone())]);
            table(
                &[
                    "version", "artifact", "files", "bytes", "licence", "card", "aliases", "tags", "runs", "datasets",
                    "created",
                ],
                m.versions
                    .unwrap_or_default()
                    .iter()
                    .map(|v| {
                        vec![
                            v.version.to_string(),
                            v.artifact.id.clone(),
                            v.artifact.files.len().to_string(),
                            v.artifact.total_size.to_string(),
                            meta(&v.artifact.evidence, "licence").unwrap_or_else(|| "-".into()),
                            meta(&v.artifact.evidence, "model_card").map_or_else(|| "-".into(), |c| card_title(&c)),
                            v.aliases.join(","),
                            v.tags.iter().map(|(k, x)| format!("{k}={x}")).collect::<Vec<_>>().join(","),
                            v.runs.join(","),
                            v.datasets.join(","),
                            short(&v.created_at),
                        ]
                    })
                    .collect(),
            );
            Ok(())
        }
        ModelCommand::Pull { reference, project, out } => {
            let (name, r) = split_reference(&reference)?;
            let v = c.get_model_version(&project, name, r).await?;
            let version = v.version;
            for file in &v.artifact.files {
                warden_intake::manifest::check_path(&file.path).map_err(|e| anyhow!("refusing to write: {e}"))?;
                let target = out.join(&file.path);
                if let Some(dir) = target.parent() {
                    std::fs::create_dir_all(dir)?;
                }
                c.download_blob(&project, &file.digest, &target).await?;
                let (got, _) = c.digest_file(&target).await?;
                if got != file.digest {
                    let _ = std::fs::remove_file(&target);
                    bail!("{}: downloaded digest {got} is not {}", file.path, file.digest);
                }
            }
            println!(
                "pulled {name}@{version} ({} files, digests verified) into {}",
                v.artifact.files.len(),
                out.display()
            );
            Ok(())
        }
        ModelCommand::Alias { name, alias, version, project } => {
            let a = c.set_model_alias(&project, &name, &alias, version).await?;
            if f == Format::Json {
                return json(&a);
            }
            println!("{name}@{} now points at version {}", a.alias, a.version);
            Ok(())
        }
        ModelCommand::Unalias { name, alias, project } => {
            c.delete_model_alias(&project, &name, &alias).await?;
            println!("removed alias {name}@{alias}");
            Ok(())
        }
        ModelCommand::Tag { reference, tag, project } => {
            let (name, version) = numbered(&reference)?;
            let (key, value) = tag.split_once('=').ok_or_else(|| anyhow!("give the tag as KEY=VALUE"))?;
            let t = c.set_model_tag(&project, name, version, key, value).await?;
            if f == Format::Json {
                return json(&t);
            }
            println!("{name}@{version}: {}={}", t.key, t.value);
            Ok(())
        }
        ModelCommand::Untag { reference, key, project } => {
            let (name, version) = numbered(&reference)?;
            c.delete_model_tag(&project, name, version, &key).await?;
            println!("{name}@{version}: removed tag {key}");
            Ok(())
        }
    }
}
